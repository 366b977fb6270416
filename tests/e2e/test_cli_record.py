"""What happened on a file, typed in a terminal after the fact: a call made yesterday,
recorded today, and any fact of a form, each at its business time; and the history that
shows them, its corrections and its brackets, as they were typed."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, time, timedelta

import pytest

from adapters.usecases.fact_forms import BY_KIND as FORMS
from domain.service import CaseFiles
from domain.values import PARIS
from projections.french import instant
from tests.e2e.cli_runner import relance

N = "FA-2026-0077"
REGISTER = ["invoice", "register", "--number", N, "--debtor-account", "411ACM",
            "--debtor-name", "[ACME] [sarl] Dupuis", "--amount", "1 500,00",
            "--issued", "01/09/2026", "--due", "01/10/2026"]


def _yesterday_at(hour: int, minute: int) -> datetime:
    """Yesterday in Paris at that time, as a Paris instant."""
    yesterday = datetime.now(PARIS).date() - timedelta(days=1)
    return datetime.combine(yesterday, time(hour, minute), tzinfo=PARIS)


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def registered(store_url: str) -> str:
    """The store under test, holding one file registered from the command line."""
    done = relance(store_url, *REGISTER)
    assert done.returncode == 0, done.stderr
    return store_url


def test_a_call_made_yesterday_is_recorded_today_at_the_time_it_happened(registered, runtime):
    called = _yesterday_at(16, 5)
    before = datetime.now(UTC)
    result = relance(registered, "case", "call", N, "--outcome", "joint", "--contact-name",
                     "Jean Dupont", "--summary", "Paiera vendredi",
                     "--le", f"{called:%d/%m/%Y %H:%M}")
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr
    call = runtime.files.history(N)[-1]
    assert call.kind == "CallLogged"
    assert call.occurred_at == called                      # Paris time as typed...
    assert call.occurred_at.utcoffset() == timedelta(0)    # ...stored as a UTC instant
    assert before - timedelta(seconds=1) <= call.recorded_at <= after   # the clock's
    said = _plain(result.stdout)
    assert f"survenu le {instant(called)}, enregistré le {instant(call.recorded_at)}" in said

    shown = _plain(relance(registered, "case", "show", N).stdout)
    row = next(line for line in shown.splitlines() if "Appel" in line)
    assert instant(called) in row
    assert instant(call.recorded_at) in row


def test_any_fact_of_a_form_is_recorded_at_its_business_time(registered, runtime):
    day = _yesterday_at(12, 0)
    paid = relance(registered, "case", "record", N, "paiement", "--champ", "amount=1 200,00",
                   "--champ", f"received_on={day:%d/%m/%Y}", "--champ", "means=virement",
                   "--le", f"{day:%d/%m/%Y}")                        # a day alone: noon
    assert paid.returncode == 0, paid.stderr
    noted = relance(registered, "case", "record", N, "echeance", "--champ",
                    f"new_due_on={day:%d/%m/%Y}", "--champ", "reason=Accord du client",
                    "--le", f"{day:%Y-%m-%d}T08:30:00+00:00")         # a zone: kept
    assert noted.returncode == 0, noted.stderr
    payment, rescheduled = runtime.files.history(N)[-2:]
    assert (payment.kind, payment.occurred_at) == ("PaymentReceived", day)
    assert payment.data["amount"] == 1200
    assert rescheduled.occurred_at == datetime.combine(day.date(), time(8, 30), tzinfo=UTC)
    assert "Paiement reçu — 1 200,00 € reçu le" in _plain(paid.stdout)


def test_a_business_time_in_the_future_is_refused_in_french(registered, runtime):
    tomorrow = datetime.now(PARIS) + timedelta(days=1)
    refused = relance(registered, "case", "call", N, "--outcome", "reached",
                      "--le", f"{tomorrow:%d/%m/%Y %H:%M}")
    assert refused.returncode == 1
    assert "La date indiquée est dans le futur." in refused.stderr
    assert "Traceback" not in refused.stderr
    assert [e.kind for e in runtime.files.history(N)] == ["InvoiceRegistered"]


def test_a_value_that_does_not_read_is_named_before_touching_the_store(registered, runtime):
    bad = relance(registered, "case", "record", N, "paiement", "--champ", "amount=douze",
                  "--champ", "means=bitcoin")
    assert bad.returncode == 2
    text = " ".join(_plain(bad.stderr).split())
    assert "amount : Montant invalide" in text
    assert "received_on : Ce champ est obligatoire." in text
    assert "means : Choisissez une valeur de la liste. Valeurs : transfer (virement)" in text
    unknown = relance(registered, "case", "record", N, "paiement", "--champ", "montant=12")
    assert unknown.returncode == 2
    assert [e.kind for e in runtime.files.history(N)] == ["InvoiceRegistered"]


def test_the_history_shows_its_marks_and_brackets_and_corrections_in_french(registered):
    day = _yesterday_at(10, 0)
    for args in (["paiement", "--champ", "amount=1000", "--champ", f"received_on={day:%d/%m/%Y}",
                  "--champ", "means=transfer"],
                 ["correction", "--champ", "target=2", "--champ", "field=amount",
                  "--champ", "value=1050", "--champ", "reason=erreur [saisie]"],
                 ["rappel", "--champ", f"callback_on={datetime.now(PARIS):%d/%m/%Y}",
                  "--champ", "owner=marie.curie", "--champ", "reason=[urgent] voir compta"],
                 ["annulation", "--champ", "target=4", "--champ", "reason=Doublon"]):
        done = relance(registered, "case", "record", N, *args)
        assert done.returncode == 0, done.stderr
    for shown in (relance(registered, "case", "show", N),
                  relance(registered, "case", "show", N, "--as-of", "31/12/2999")):
        assert shown.returncode == 0, shown.stderr
        text = _plain(shown.stdout)
        assert "[ACME] [sarl] Dupuis" in text
        assert "Paiement reçu [corrigé par n° 3]" in text
        assert "corrige l'entrée n° 2 — montant : 1 050,00 € — erreur [saisie]" in text
        assert "Rappel prévu [annulé par n° 5]" in text
        assert "[urgent] voir compta" in text


@pytest.mark.parametrize("slug", sorted(FORMS))
def test_every_form_can_be_recorded_at_its_business_time(slug):
    command = getattr(CaseFiles, FORMS[slug].command)
    assert "occurred_at" in inspect.signature(command).parameters
