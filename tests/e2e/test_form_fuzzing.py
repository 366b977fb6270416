"""Hostile input on every HTML form of a file (hypothesis), over real HTTP.

Amounts negative, zero, huge, "1.000,5", NaN; dates invalid, far past or future;
1 MB texts; control and right-to-left characters; HTML and script payloads. Each
answer is a recorded fact (303) or a refusal with a French message (4xx) that records
nothing; never a server error; and whatever was typed is escaped wherever it shows.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.usecases.fact_forms import FORMS
from domain.kinds import CHOICES
from tests.builders import register_kwargs
from tests.e2e.conftest import hidden, log_in, submit_login

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
            "{{ 7 * 7 }}", "' OR 1=1 --", "\u202eevil\u202c", "\x00", "\x07bell",
            "Zoé & Cie <b>gras</b>", "x" * 1_000_000]
AMOUNTS = ["-1", "0", "0,00", "1e309", "99999999999999999999", "1.000,5", "NaN", "Infinity",
           "12,345", "1 500,00", "abc", "", "150"]
DATES = ["31/02/2026", "2026-13-01", "01/01/0001", "31/12/9999", "hier", "", "15/12/2026",
         "1/1/1", "2026-11-23"]
HOSTILE = {"money": AMOUNTS, "date": DATES, "number": ["-5", "0", "10" * 30, "x", "3", ""],
           "check": ["on", "", "<script>"], "text": [*PAYLOADS, "Jean Dupont"],
           "long": [*PAYLOADS, "Appel : paiement promis"],
           "plan": ["15/12/2026 500,00", "15/12/2026 -5", "demain 100", "x" * 10_000, ""]}


def _value(field) -> st.SearchStrategy[str]:
    if field.kind == "choice":
        return st.sampled_from([*CHOICES[field.choices], "", "<script>", "autre"])
    return st.one_of(st.sampled_from(HOSTILE.get(field.kind, PAYLOADS)),
                     st.text(max_size=40))


FORM_VALUES = st.sampled_from(FORMS).flatmap(
    lambda form: st.tuples(st.just(form), st.fixed_dictionaries(
        {f.name: _value(f) for f in form.fields})))


def test_hostile_values_in_every_fact_form_are_refused_in_french_or_recorded_escaped(server):
    runtime = server.app.state.runtime
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "FZ-1", issued_on=today - timedelta(60), due_on=today - timedelta(30)))
    agent = log_in(server, "agent.fuzz", "agent")
    page = agent.get("/dossiers/FZ-1").text
    csrf = hidden(page)
    seen = {"refused": 0, "recorded": 0}

    @given(chosen=FORM_VALUES)
    @settings(max_examples=120, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def post(chosen) -> None:
        form, values = chosen
        before = runtime.files.recorder.max_notification_id()
        answer = agent.post(f"/dossiers/FZ-1/faits/{form.slug}",
                            data={"csrf": csrf, **values})
        assert answer.status_code < 500, (form.slug, values, answer.status_code)
        if answer.status_code >= 400:
            seen["refused"] += 1
            assert runtime.files.recorder.max_notification_id() == before, (form.slug, values)
            assert 'class="error"' in answer.text or "role=\"alert\"" in answer.text
            _escaped(answer.text, values)
        else:
            seen["recorded"] += 1
            assert answer.status_code == 303, (form.slug, answer.status_code)
            _escaped(agent.get(answer.headers["location"]).text, values)

    post()
    assert seen["refused"] > 20
    assert seen["recorded"] > 0


def test_hostile_notes_and_calls_are_refused_or_shown_escaped(server):
    runtime = server.app.state.runtime
    today = runtime.today()
    runtime.files.register_invoice("alice", **register_kwargs(
        "FZ-2", issued_on=today - timedelta(60), due_on=today - timedelta(30)))
    agent = log_in(server, "agent.fuzz", "agent")
    csrf = hidden(agent.get("/dossiers/FZ-2").text)

    @given(text=st.sampled_from(PAYLOADS), amount=st.sampled_from(AMOUNTS),
           day=st.sampled_from(DATES))
    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def post(text: str, amount: str, day: str) -> None:
        before = runtime.files.recorder.max_notification_id()
        note = agent.post("/dossiers/FZ-2/notes", data={"csrf": csrf, "text": text})
        call = agent.post("/dossiers/FZ-2/appels", data={
            "csrf": csrf, "contact_name": text[:200], "outcome": "reached", "summary": text,
            "promised_on": day, "promised_amount": amount, "confirm": "true"})
        for answer in (note, call):
            assert answer.status_code in (303, 413, 422), answer.status_code
            if answer.status_code == 413:                  # over the form's size limit
                assert "La demande est trop volumineuse" in answer.text
            shown = answer.text if answer.status_code != 303 else \
                agent.get(answer.headers["location"]).text
            _escaped(shown, {"text": text})
        if note.status_code != 303 and call.status_code != 303:
            assert runtime.files.recorder.max_notification_id() == before

    post()
    debtor = agent.get("/debiteurs/411ACME").text
    assert "<script>alert(1)</script>" not in debtor
    team = agent.get("/equipe").text
    assert "<script>alert(1)</script>" not in team


def _escaped(page: str, values: dict[str, str]) -> None:
    """No value typed into a form comes back as live markup."""
    for value in values.values():
        for live in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                     "<b>gras</b>"):
            if live in value:
                assert live not in page


def test_a_huge_body_is_refused_before_it_is_read(server):
    agent = log_in(server, "agent.fuzz", "agent")
    answer = agent.post("/dossiers/FZ-3/notes", content=b"text=" + b"x" * 12_000_000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code in (400, 413)
    assert "rien n&#39;a été enregistré" in answer.text
    assert agent.get("/journee").status_code == 200


SETTINGS_FORMS = {
    "/reglages/absence": ("agent", "first", "last"),
    "/reglages/scenario": ("account", "name"),
    "/reglages/defaut": ("name",),
    "/reglages/taux": ("account", "percent"),
    "/reglages/comptes/creer": ("login", "name", "role", "password"),
    "/reglages/scenarios/nouveau": ("name", "title", "gap", "reason", "s0_offset", "s0_kind",
                                    "s0_channel", "s0_template", "s0_label", "s0_level"),
    "/reglages/modeles/reminder_1": ("text", "reason"),
}
ANY_VALUE = st.sampled_from([*PAYLOADS[:-1], *AMOUNTS, *DATES, "reference", "agent", "admin"])


def test_hostile_values_in_the_settings_and_login_forms_never_break_a_page(server):
    chef = log_in(server, "chef.fuzz", "supervisor")
    runtime = server.app.state.runtime
    csrf = hidden(chef.get("/reglages").text)

    @given(url=st.sampled_from(sorted(SETTINGS_FORMS)), data=st.data())
    @settings(max_examples=80, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def post(url: str, data) -> None:
        values = {name: data.draw(ANY_VALUE, label=name) for name in SETTINGS_FORMS[url]}
        before = runtime.files.recorder.max_notification_id()
        answer = chef.post(url, data={"csrf": csrf, **values})
        assert answer.status_code in (303, 403, 422), (url, values, answer.status_code)
        if answer.status_code == 422:
            assert runtime.files.recorder.max_notification_id() == before
            _escaped(answer.text, values)

    post()
    for login, password in (("<script>", "x"), ("a" * 500, "b" * 5000), ("\x00", "\u202e")):
        answer = submit_login(chef, login, password)
        assert answer.status_code in (200, 401, 403, 413, 422, 429), answer.status_code
        assert "<script>" not in answer.text.split("<main>")[-1]
