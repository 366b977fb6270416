"""French letters and emails: personalised, complete, and free of threats."""

from datetime import UTC, date, datetime

import pytest

from adapters.infra.documents import (
    DOCUMENTS,
    Creditor,
    Documents,
    DocumentUnavailable,
    document_context,
)
from adapters.infra.rates import load_law_rates
from domain.invoice import Invoice
from domain.values import CallOutcome, Channel, DuplicateReason, Instalment, Stamp
from tests.builders import JEAN, eur, register_kwargs

RATES = load_law_rates()
CREDITOR = Creditor(name="Menuiseries Arnaud SAS", siren="552100554", city="Lyon",
                    address="12 quai Perrache, 69002 Lyon")
DAY = date(2025, 11, 20)


def at(day: date) -> Stamp:
    return Stamp("bruno", datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
                 datetime(2025, 12, 1, tzinfo=UTC))


@pytest.fixture
def invoice() -> Invoice:
    inv = Invoice.register(at(date(2025, 9, 1)), **register_kwargs(
        "FA-2025-0077", amount=eur("2400.00"), issued_on=date(2025, 9, 1),
        due_on=date(2025, 10, 1)))
    inv.send_reminder(at(date(2025, 10, 1)), channel=Channel.EMAIL, level=1)
    inv.log_call(at(date(2025, 10, 9)), contact=JEAN, outcome=CallOutcome.REACHED,
                 summary="Facture validée, virement la semaine prochaine",
                 callback_on=date(2025, 10, 17))
    inv.promise_payment(at(date(2025, 10, 9)), promised_on=date(2025, 10, 16), promised_by=JEAN)
    return inv


def render(invoice: Invoice, name: str, documents: Documents | None = None):
    context = document_context(invoice, DAY, RATES, CREDITOR, "Bruno Petit")
    return (documents or Documents()).render(name, context)


def test_every_document_renders_in_french_with_the_file_and_the_contact(invoice):
    invoice.request_duplicate(at(date(2025, 10, 10)), reason=DuplicateReason.WRONG_RECIPIENT)
    invoice.agree_payment_plan(at(date(2025, 11, 1)), contact=JEAN, instalments=[
        Instalment(date(2025, 11, 30), eur("1200").amount),
        Instalment(date(2025, 12, 30), eur("1200").amount)])
    for name in DOCUMENTS:
        document = render(invoice, name)
        assert "FA-2025-0077" in document.text, name
        assert "Menuiseries Arnaud SAS" in document.text or name == "formal_notice"
        assert document.subject, name
        assert "<html" in document.html


def test_the_first_and_second_reminders_never_read_alike(invoice):
    first, second = render(invoice, "reminder_1"), render(invoice, "reminder_2")
    assert first.subject != second.subject
    assert first.text != second.text
    assert "Notre relance du 01/10/2025 est restée sans effet" in second.text
    assert "Le règlement promis pour le 16/10/2025 ne nous est pas parvenu." in second.text


def test_the_formal_notice_names_parties_invoice_amounts_and_deadline_without_threat(invoice):
    text = render(invoice, "formal_notice").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "MISE EN DEMEURE" in text
    assert "mettons en demeure" in text
    assert "Menuiseries Arnaud SAS, SIREN 552100554" in text
    assert "ACME SARL, SIREN 732829320" in text
    assert "facture n° FA-2025-0077 du 01/09/2025" in text
    assert "principal : 2 400,00 €" in text
    assert "indemnité forfaitaire pour frais de recouvrement" in text
    assert "40,00 €" in text
    assert "au plus tard le 28/11/2025" in text
    for threat in ("saisie", "saisir", "huissier", "poursuite", "contentieux", "menace"):
        assert threat not in text.lower(), threat


def test_the_call_confirmation_restates_what_was_said_promised_and_when_we_call_back(invoice):
    text = render(invoice, "call_confirmation").text.replace("\xa0", " ").replace("\u202f", " ")
    assert "notre échange téléphonique du 09/10/2025" in text
    assert "« Facture validée, virement la semaine prochaine »" in text
    assert "le règlement de 2 400,00 € interviendra au plus tard le 16/10/2025" in text
    assert "Je vous rappellerai le 17/10/2025." in text


def test_a_document_that_does_not_apply_is_refused(invoice):
    with pytest.raises(DocumentUnavailable, match="no payment plan"):
        render(invoice, "payment_plan")


def test_a_team_can_override_a_template(invoice, tmp_path):
    (tmp_path / "reminder_1.txt.j2").write_text(
        '{% set subject = "Petit rappel " ~ invoice.number %}Bonjour, un petit rappel.\n',
        encoding="utf-8")
    document = render(invoice, "reminder_1", Documents(tmp_path))
    assert document.subject == "Petit rappel FA-2025-0077"
    assert document.text == "Bonjour, un petit rappel.\n"
    assert render(invoice, "reminder_2", Documents(tmp_path)).subject.startswith("Deuxième")


def test_a_letter_renders_to_pdf(invoice):
    pdf = render(invoice, "formal_notice").pdf()
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 2000


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _never_worked(**overrides) -> Invoice:
    overrides = {"amount": eur("2400.00"), **overrides}
    return Invoice.register(at(date(2025, 9, 1)), **register_kwargs(
        "FA-2025-0078", issued_on=date(2025, 9, 1), due_on=date(2025, 10, 1), **overrides))


def test_a_consumer_formal_notice_cites_the_consumer_rules_never_l441_10_or_the_40_euros():
    from domain.values import Debtor
    inv = _never_worked(debtor=Debtor("411PART", "M. Martin", is_consumer=True))
    text = _plain(render(inv, "formal_notice").text)
    assert "mettons en demeure de nous régler la somme de 2 400,00 €" in text
    assert "intérêts au taux légal" in text
    assert "1231-6 et 1344-1 du Code civil" in text
    for professional in ("L441-10", "D441-5", "40,00 €", "indemnité forfaitaire"):
        assert professional not in text, professional
    second = _plain(render(inv, "reminder_2").text)
    assert "L441-10" not in second
    assert "40 €" not in second


def test_no_letter_speaks_of_earlier_exchanges_when_there_were_none():
    inv = _never_worked()
    notice, second = render(inv, "formal_notice").text, render(inv, "reminder_2").text
    for text in (notice, second):
        assert "précédents échanges" not in text
        assert "Malgré nos" not in text
    assert "La facture suivante reste impayée" in notice
    inv.log_call(at(date(2025, 10, 9)), contact=JEAN, outcome=CallOutcome.REACHED,
                 summary="Facture reçue")
    assert "Malgré nos précédents échanges, la facture" in render(inv, "reminder_2").text
    assert "Malgré nos échanges, la facture suivante" in render(inv, "formal_notice").text


def test_during_a_partial_dispute_letters_claim_only_the_undisputed_part(invoice):
    invoice.raise_dispute(at(date(2025, 11, 3)), reason="Une porte abîmée",
                          disputed_amount=eur("400.00"))
    first = _plain(render(invoice, "reminder_1").text)
    assert "La part que vous contestez (400,00 €) est en cours d'examen" in first
    assert "soit 2 000,00 €" in first
    notice = _plain(render(invoice, "formal_notice").text)
    assert "dont 400,00 € font l'objet d'une contestation" in notice
    assert "principal : 2 000,00 €" in notice


def test_the_indemnity_stays_forty_euros_beside_an_invoice_in_another_currency():
    from domain.values import Money
    inv = _never_worked(amount=Money(eur("2400.00").amount, "CHF"))
    text = _plain(render(inv, "formal_notice").text)
    assert "(article D441-5 du Code de commerce) : 40,00 €" in text
    assert "auquel s'ajoute l'indemnité de 40,00 €" in text
    assert "CHF" in text


def test_a_call_confirmation_restates_the_last_call_where_somebody_was_reached(invoice):
    invoice.log_call(at(date(2025, 11, 5)), contact=JEAN, outcome=CallOutcome.VOICEMAIL,
                     summary="Messagerie")
    text = _plain(render(invoice, "call_confirmation").text)
    assert "notre échange téléphonique du 09/10/2025" in text
    assert "Messagerie" not in text
    unreached = _never_worked()
    unreached.log_call(at(date(2025, 10, 9)), contact=JEAN, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(DocumentUnavailable, match="no call where somebody was reached"):
        render(unreached, "call_confirmation")
