"""History rows speak French, with French amounts and dates."""

from datetime import date
from decimal import Decimal

from domain.invoice import Invoice
from domain.values import CallOutcome, PaymentMeans
from projections.history import history_row
from tests.builders import JEAN, ManualClock, eur, register_kwargs, stamp


def test_a_call_reads_as_who_how_what_and_when_to_call_back():
    clock = ManualClock()
    invoice = Invoice.register(stamp(clock), **register_kwargs())
    invoice.log_call(stamp(clock), contact=JEAN, outcome=CallOutcome.REACHED,
                     summary="Facture validée, paiement lundi", callback_on=date(2026, 11, 9))
    row = history_row(invoice.entries[1])
    assert row.label == "Appel"
    assert row.summary == ("Jean Dupont (Comptable) — joint — Facture validée, paiement lundi"
                           " — rappel le 09/11/2026")


def test_a_payment_shows_its_amount_in_euros_the_french_way():
    clock = ManualClock()
    invoice = Invoice.register(stamp(clock), **register_kwargs())
    invoice.receive_payment(stamp(clock), amount=eur("1234.50"), received_on=date(2026, 11, 2),
                            means=PaymentMeans.CHEQUE, reference="CHQ 0042")
    summary = history_row(invoice.entries[1]).summary
    assert summary.replace("\u202f", " ").replace("\xa0", " ") == (
        "1 234,50 € reçu le 02/11/2026 par chèque — CHQ 0042")


def test_a_correction_links_to_the_fact_it_corrects():
    clock = ManualClock()
    invoice = Invoice.register(stamp(clock), **register_kwargs())
    invoice.receive_payment(stamp(clock), amount=eur("500"), received_on=date(2026, 11, 2),
                            means=PaymentMeans.TRANSFER)
    invoice.correct(stamp(clock), target_version=2, reason="Montant réel",
                    changes={"amount": Decimal("400.00")})
    rows = [history_row(e) for e in invoice.entries]
    assert rows[2].corrects == 2
    assert rows[1].corrected_by == (3,)
    assert rows[2].summary.startswith("corrige l'entrée n° 2")
