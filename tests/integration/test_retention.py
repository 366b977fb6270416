"""The retention rule: a debtor's people fall due for erasure once all its files ended and
the rule's days passed; the list names exactly those debtors, and forgets the erased."""

from __future__ import annotations

from datetime import date, timedelta

from adapters.usecases.erasure import erase_person
from adapters.usecases.retention import due_for_erasure
from domain.sealing import ERASED
from domain.values import Contact, Debtor, HandoverTarget, PaymentMeans
from tests.builders import ACME, GLOBEX, eur, register_kwargs
from tests.e2e.cli_runner import relance

MARIE = Contact(name="Marie Dupuis", phone="06 11 22 33 44")  # herself, at her own file
CONSUMER = Debtor(account="411DUPUIS", name="Marie Dupuis", is_consumer=True)
HANDED = Debtor(account="411HAND", name="Remis SAS")
ENDED_ON = date(2026, 11, 2)


def _seed(views) -> None:
    files = views.files
    paid = dict(amount=eur("1500.00"), received_on=ENDED_ON, means=PaymentMeans.TRANSFER)
    files.register_invoice("alice", **register_kwargs("RET-A"))  # Jean Dupont, ACME
    files.receive_payment("alice", "RET-A", **paid)
    files.register_invoice("alice", **register_kwargs("RET-G1", debtor=GLOBEX))
    files.register_invoice("alice", **register_kwargs("RET-G2", debtor=GLOBEX))
    files.receive_payment("alice", "RET-G1", **paid)  # RET-G2 stays unpaid
    files.register_invoice("alice", **register_kwargs("RET-C", debtor=CONSUMER,
                                                      billing_recipient=MARIE))
    files.write_off("alice", "RET-C", reason="Montant trop faible pour poursuivre.")
    files.register_invoice("alice", **register_kwargs("RET-H", debtor=HANDED))
    files.hand_over("alice", "RET-H", to=HandoverTarget.LAWYER, recipient="Maître Roux")
    assert views.wait_for_views(files.recorder.max_notification_id())


def test_the_list_names_exactly_the_debtors_due_and_forgets_the_erased(views, store_url):
    _seed(views)
    business = timedelta(days=views.settings.retention_days_business)
    consumer = timedelta(days=views.settings.retention_days_consumer)

    assert due_for_erasure(views, ENDED_ON + consumer - timedelta(days=1)) == []
    first = due_for_erasure(views, ENDED_ON + consumer)
    assert [(d.account, d.consumer, d.ended_on, d.due_on, d.people) for d in first] == [
        (CONSUMER.account, True, ENDED_ON, ENDED_ON + consumer, (MARIE.name,))]

    # Five years on, ACME's people are due; Globex's unpaid file was prescribed only on
    # 1 October 2031, and the handed-over file goes on with the lawyer.
    later = due_for_erasure(views, ENDED_ON + business)
    assert [d.account for d in later] == [CONSUMER.account, ACME.account]
    assert later[1].people == ("Jean Dupont",)

    erase_person(views, "sophie", CONSUMER.account, MARIE.name, "fin de conservation")
    assert [d.account for d in due_for_erasure(views, ENDED_ON + business)] == [ACME.account]

    views.close()
    listed = relance(store_url, "personne", "echeances", "--le",
                     f"{ENDED_ON + business:%d/%m/%Y}")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"{ACME.account}\tACME SARL\tprofessionnel\tterminé le 02/11/2026\t"
        f"à effacer depuis le {ENDED_ON + business:%d/%m/%Y}\tJean Dupont"]
    assert "1 débiteur dont les personnes sont à effacer." in listed.stderr


def test_a_person_erased_by_their_e_mail_loses_their_name_too(views):
    files = views.files
    files.register_invoice("alice", **register_kwargs("RET-E"))  # Jean Dupont, billing
    assert views.wait_for_views(files.recorder.max_notification_id())
    erase_person(views, "sophie", ACME.account, "JEAN.DUPONT@acme.example", "demande")
    recipient = files.file("RET-E").case.billing_recipient
    assert (recipient.name, recipient.phone, recipient.email) == (ERASED, "", "")
