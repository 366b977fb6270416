"""Values of the case file generated for property tests (hypothesis)."""

from datetime import UTC, timedelta, timezone

from hypothesis import strategies as st

from domain.values import Contact, Debtor, Instalment

TEXT = st.text(st.characters(exclude_categories=("Cs",)))
"""Any text UTF-8 can carry."""
NAME = st.text(st.characters(categories=("L", "N", "Zs", "P")), min_size=1,
               max_size=20).filter(str.strip)
"""A person's or a debtor's name: never blank (a blank name is refused)."""
ACCOUNT = st.from_regex(r"411[0-9]{3}", fullmatch=True)
AMOUNT = st.decimals(allow_nan=False, allow_infinity=False)
INSTANT = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
CONTACT = st.builds(Contact, NAME, NAME, st.sampled_from(["", "01 02 03 04 05"]),
                    st.sampled_from(["", "jean@example.fr", "compta@société.fr"]))
"""A person in clear."""
DEBTOR = st.builds(Debtor, ACCOUNT, NAME)
"""A business debtor."""
INSTALMENT = st.builds(Instalment, st.dates(), AMOUNT)
