"""One letter per debtor: a formal notice or a reminder lists every invoice the debtor owes
and that is being chased, each with its penalties and its 40 € indemnity, and is recorded
on each file it covers, at once, on both stores."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.infra.outbox import FileOutbox
from adapters.usecases.debtor_letters import covered, due_numbers
from adapters.usecases.fact_forms import BY_KIND, read, record
from adapters.usecases.sending import preview, send_by_email
from domain.errors import DifferentDebtors, FileClosed
from domain.penalties import penalties
from domain.values import Debtor, Money, PaymentMeans
from projections.french import money
from tests.builders import GLOBEX, eur, register_kwargs

DUE = {"FA-1": (date(2026, 8, 1), "1500.00"), "FA-2": (date(2026, 9, 1), "820.50"),
       "FA-3": (date(2026, 10, 1), "2400.00")}
"""Three overdue invoices of ACME on 2 November 2026 (the test clock's day)."""


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def debtor(runtime):
    """ACME with three overdue invoices, one not yet due and one paid; Globex with one
    overdue invoice."""
    files = runtime.files
    for number, (due_on, amount) in DUE.items():
        files.register_invoice("import", **register_kwargs(
            number, due_on=due_on, issued_on=date(2026, 7, 1), amount=eur(amount)))
    files.register_invoice("import", **register_kwargs("FA-LATER", due_on=date(2026, 12, 1)))
    files.register_invoice("import", **register_kwargs("FA-PAID", due_on=date(2026, 9, 15)))
    files.receive_payment("import", "FA-PAID", amount=eur("1500.00"),
                          received_on=date(2026, 10, 30), means=PaymentMeans.TRANSFER)
    files.register_invoice("import", **register_kwargs("GX-1", debtor=GLOBEX))
    return runtime


def _owed(runtime, number: str):
    case = runtime.files.case(number)
    return penalties(case, runtime.today(), runtime.law_rates,
                     runtime.files.penalty_rate(number, case=case))


def test_one_formal_notice_lists_three_invoices_with_their_penalties_and_the_40_euros_each(
        debtor):
    runtime = debtor
    assert due_numbers(runtime, "FA-3") == ["FA-1", "FA-2"]
    letter = preview(runtime, "FA-3", "formal_notice", "Bruno Petit")
    text = _plain(letter.text)
    assert letter.subject == "Mise en demeure de payer — 3 factures"
    assert "Les factures suivantes restent impayées :\n- facture n° FA-1" in text
    total = Decimal("0.00")
    for number, (due_on, amount) in DUE.items():
        owed = _owed(runtime, number)
        assert owed.interest > 0
        assert f"- facture n° {number} du 01/07/2026" in text
        assert f"échue le {due_on:%d/%m/%Y}, montant {_plain(money(Decimal(amount)))}" in text
        assert (f"- facture n° {number} : principal {_plain(money(Decimal(amount)))} ; "
                f"pénalités de retard (article L441-10 du Code de commerce) "
                f"{_plain(money(owed.interest))}") in text
        total += Decimal(amount) + owed.interest + Decimal("40.00")
    assert text.count("(article D441-5 du Code de commerce) : 40,00 €") == 3
    assert f"soit un total de {_plain(money(total))}" in text
    assert "indemnités forfaitaires 120,00 €" in text
    for absent in ("FA-LATER", "FA-PAID", "GX-1"):
        assert absent not in text
    assert letter.pdf().startswith(b"%PDF-")

    form = BY_KIND["mise-en-demeure"]
    _, parsed = read(form, {"letter": "1A 234 567 8901 2", "deadline_on": "12/11/2026"})
    recorded = record(runtime.files, "bruno", "FA-3", form, parsed,
                      also_about=due_numbers(runtime, "FA-3"))
    assert len(recorded.facts) == 3  # one command, one transaction, one fact per file
    for number in DUE:
        notice = runtime.files.history(number)[-1]
        assert notice.kind == "FormalNoticeSent"
        assert notice.data["registered_letter_number"] == "1A 234 567 8901 2"
        assert runtime.files.case(number).formal_notice_on == runtime.today()
    assert runtime.files.history("FA-LATER")[-1].kind == "InvoiceRegistered"


def test_a_letter_covering_several_files_is_recorded_on_all_of_them_or_on_none(debtor):
    runtime = debtor
    files = runtime.files
    form = BY_KIND["mise-en-demeure"]
    _, parsed = read(form, {"letter": "1A 999", "deadline_on": "12/11/2026"})
    with pytest.raises(DifferentDebtors):
        record(files, "bruno", "FA-1", form, parsed, also_about=["FA-2", "GX-1"])
    with pytest.raises(DifferentDebtors):
        covered(runtime, "FA-1", "formal_notice", ["GX-1"])
    files.close_file("superviseur", "FA-3", reason="Accord commercial")
    with pytest.raises(FileClosed):
        record(files, "bruno", "FA-1", form, parsed, also_about=["FA-2", "FA-3"])
    for number in ("FA-1", "FA-2"):
        assert files.history(number)[-1].kind == "InvoiceRegistered"
    assert due_numbers(runtime, "FA-1") == ["FA-2"]  # a closed file is not claimed any more


def test_one_reminder_email_lists_the_debtors_due_invoices_and_is_recorded_on_each(
        debtor, tmp_path):
    runtime = debtor
    runtime.outbox = FileOutbox(tmp_path)
    sent = send_by_email(runtime, "FA-2", "reminder_1", "bruno")
    assert sent.ok
    text = _plain(sent.document.text)
    assert _plain(sent.document.subject) == "3 factures échues : 4 720,50 € restant dû"
    for number in ("FA-2", "FA-1", "FA-3"):
        assert f"- facture n° {number} du 01/07/2026" in text
        fact = runtime.files.history(number)[-1]
        assert (fact.kind, fact.data["message_id"]) == ("ReminderSent", sent.message_id)
        assert fact.data["document_sha256"] == sent.document.sha256
    assert text.count("indemnité forfaitaire 40,00 €") == 3
    assert len(list(tmp_path.glob("*.eml"))) == 1  # one message, not three

    alone = send_by_email(runtime, "FA-2", "reminder_2", "bruno", numbers=[])
    assert "FA-1" not in alone.document.text
    assert runtime.files.history("FA-1")[-1].kind == "ReminderSent"
    assert runtime.files.history("FA-2")[-1].data["level"] == 2


def test_amounts_in_two_currencies_are_never_added_and_consumers_owe_no_indemnity(runtime):
    files = runtime.files
    files.register_invoice("import", **register_kwargs("FA-EUR", due_on=date(2026, 9, 1)))
    files.register_invoice("import", **register_kwargs(
        "FA-CHF", due_on=date(2026, 9, 1), amount=Money(Decimal("900.00"), "CHF")))
    text = _plain(preview(runtime, "FA-EUR", "formal_notice", "Bruno").text)
    assert "soit un total" not in text
    assert "(principal et pénalités en CHF)" in text
    assert "(principal et pénalités en EUR)" in text
    assert "auxquels s'ajoutent les indemnités forfaitaires de 80,00 €" in text

    martin = Debtor("411PART", "M. Martin", is_consumer=True)
    for number in ("P-1", "P-2"):
        files.register_invoice("import", **register_kwargs(number, debtor=martin,
                                                           due_on=date(2026, 9, 1)))
    consumer = _plain(preview(runtime, "P-1", "formal_notice", "Bruno").text)
    assert "- facture n° P-2" in consumer
    assert "mettons en demeure de nous régler la somme de 3 000,00 €" in consumer
    for professional in ("L441-10", "D441-5", "40,00 €", "indemnité forfaitaire"):
        assert professional not in consumer, professional
