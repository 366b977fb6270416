"""Who the debtor is and who works there, on both stores: each change a fact with who and
when, people merged field by field, filled by imports, and used by letters and e-mails.
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy

import facturx
import pytest
from weasyprint import HTML

from adapters.infra.outbox import FileOutbox
from adapters.usecases.facturx import import_facturx
from adapters.usecases.fec import import_fec
from adapters.usecases.importing import import_invoices
from adapters.usecases.sending import known_contacts, preview, send_by_email
from domain.debtors import InvalidIdentity
from domain.scenarios import OwnerRule
from domain.terms import PaymentTerms
from domain.values import CallOutcome, Contact
from tests.builders import ACME, JEAN, dump_views, register_kwargs

CSV = (
    "numero;compte;client;siren;siret;forme juridique;montant;date;echeance;contact;"
    "fonction;role;telephone;email;adresse;complement adresse;code postal;ville;"
    "adresse siege;code postal siege;ville siege\n"
    "FA-1;411DUP;Dupuis & Fils;732829320;73282932000074;SAS;1 500,00;01/10/2026;31/10/2026;"
    "Marie Roux;Comptable;Comptabilité fournisseurs;04 78 00 00 01;marie@dupuis.example;"
    "Service comptabilité;3 quai Perrache;69002;Lyon;12 rue de la République;69001;Lyon\n"
    "FA-2;411DUP;Dupuis & Fils;732829320;73282932000074;SAS;800,00;05/10/2026;04/11/2026;"
    "Marie Roux;Comptable;Comptabilité fournisseurs;;;"
    "Service comptabilité;3 quai Perrache;69002;Lyon;12 rue de la République;69001;Lyon\n"
).encode()


def settle(runtime) -> None:
    """The read models brought up to date with everything recorded."""
    runtime.follower.catch_up()


def jean(runtime):
    debtor = runtime.reads.debtor(ACME.account, runtime.today())
    return next(p for p in debtor.people if p.name.value == "Jean Dupont")


def test_a_contacts_phone_survives_a_later_call_that_omits_it(runtime, clock):
    files, follower = runtime.files, runtime.follower
    files.register_invoice("alice", **register_kwargs())                  # Jean, with phone
    clock.advance(hours=1)
    files.record_debtor_person("alice", ACME.account, name="Jean Dupont", role="billing",
                               phone="06 11 22 33 44")
    clock.advance(days=1)
    files.log_call("bruno", "FA-2026-0001", contact=Contact("Jean Dupont"),
                   outcome=CallOutcome.REACHED, summary="Virement lundi")
    files.record_debtor_person("bruno", ACME.account, name=" Jean  Dupont", function="DAF")
    follower.catch_up(batch_size=1)                                       # live, fact by fact

    person = jean(runtime)
    assert [p.value for p in person.phones] == ["06 11 22 33 44", "01 02 03 04 05"]
    assert [e.value for e in person.emails] == ["jean.dupont@acme.example"]
    assert (person.function.value, person.function.by) == ("DAF", "bruno")
    assert (person.role.value, person.role.by) == ("billing", "alice")
    assert person.name.by == "bruno"                                      # last seen
    assert files.debtor_record(ACME.account).people["jean dupont"].phones == ["06 11 22 33 44"]

    live = dump_views(runtime.views, follower.projections)
    for projection in follower.projections:                              # one batch: the same
        runtime.views.reset(projection)
    follower.catch_up(batch_size=1000)
    assert dump_views(runtime.views, follower.projections) == live


def test_a_new_phone_is_added_beside_the_ones_known(runtime, clock):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs())
    clock.advance(hours=1)
    files.record_debtor_person("bruno", ACME.account, name="Jean Dupont", phone="06 11 22 33 44")
    clock.advance(hours=1)
    files.log_call("bruno", "FA-2026-0001", contact=Contact("Jean Dupont", phone="01 99 99 99 99"),
                   outcome=CallOutcome.VOICEMAIL)
    settle(runtime)
    assert [p.value for p in jean(runtime).phones] == [
        "01 99 99 99 99", "06 11 22 33 44", "01 02 03 04 05"]
    unchanged = runtime.files.recorder.max_notification_id()
    files.record_debtor_person("bruno", ACME.account, name="Jean Dupont", phone="06 11 22 33 44")
    assert runtime.files.recorder.max_notification_id() == unchanged       # nothing new


def test_identity_changes_are_recorded_with_who_and_when(runtime, clock):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs())
    first = clock.now
    files.change_debtor_identity("alice", ACME.account, changes={
        "legal_name": "ACME Société à responsabilité limitée", "siren": "732 829 320",
        "billing_address": "Service fournisseurs\n 12 rue de la Paix \n\n75002 PARIS"})
    clock.advance(days=3)
    files.change_debtor_identity("bruno", ACME.account, changes={
        "legal_name": "", "siret": "73282932000074", "legal_form": "SARL"})
    with pytest.raises(InvalidIdentity):
        files.change_debtor_identity("bruno", ACME.account, changes={"siret": "55210055400013"})
    with pytest.raises(InvalidIdentity):
        files.change_debtor_identity("bruno", ACME.account, changes={"siren": "12345"})
    settle(runtime)

    identity = runtime.reads.debtor(ACME.account, runtime.today()).identity
    assert identity["legal_name"].value == "ACME Société à responsabilité limitée"  # kept
    assert (identity["legal_name"].by, identity["legal_name"].at) == ("alice", first)
    assert identity["siren"].value == "732829320"
    assert identity["billing_address"].value == (
        "Service fournisseurs\n12 rue de la Paix\n75002 PARIS")
    assert (identity["siret"].value, identity["siret"].by, identity["siret"].at) == (
        "73282932000074", "bruno", clock.now)
    assert identity["legal_form"].value == "SARL"


def test_import_columns_fill_identity_and_people_and_a_reimport_adds_nothing(runtime):
    files = runtime.files
    files.set_owner_rules("sophie", [OwnerRule("bruno", postcodes=("69",)),
                                     OwnerRule("amelie")], reason="par département")
    report = import_invoices(files, CSV, "import")
    assert (report.created, report.rejected, report.debtors_updated) == (2, [], 1)
    settle(runtime)

    debtor = runtime.reads.debtor("411DUP", runtime.today())
    assert {name: said.value for name, said in debtor.identity.items()} == {
        "siret": "73282932000074", "legal_form": "SAS",
        "billing_address": "Service comptabilité\n3 quai Perrache\n69002 LYON",
        "registered_office": "12 rue de la République\n69001 LYON"}
    assert {said.by for said in debtor.identity.values()} == {"import"}
    (marie,) = debtor.people
    assert (marie.name.value, marie.function.value, marie.role.value) == (
        "Marie Roux", "Comptable", "accounts_payable")
    assert [p.value for p in marie.phones] == ["04 78 00 00 01"]
    assert debtor.owner["owner"] == "bruno"                # the owner rule read the postcode

    head = files.recorder.max_notification_id()
    again = import_invoices(files, CSV, "import")
    assert (again.created, again.unchanged, again.debtors_updated) == (0, 2, 0)
    assert files.recorder.max_notification_id() == head


def test_a_line_whose_address_or_role_does_not_read_is_rejected_whole(runtime):
    files = runtime.files
    bad = CSV.decode().replace("Comptabilité fournisseurs;04", "Patron;04").replace(
        "Dupuis & Fils;732829320;73282932000074;SAS;800", "Dupuis & Fils;732829320;123;SAS;800")
    report = import_invoices(files, bad.encode(), "import")
    assert report.created == 0
    reasons = dict(report.rejected)
    assert reasons[2].startswith("rôle du contact inconnu : « Patron »")
    assert "SIRET" in reasons[3]
    assert files.debtor_record("411DUP") is None


def test_a_fec_with_added_columns_fills_the_billing_address(runtime):
    files = runtime.files
    fec = ("JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\t"
           "CompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\t"
           "EcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise\tAdresse\tCode postal\t"
           "Ville\tSIRET\n"
           "VT\tVentes\t1\t20260901\t411000\tClients\tC001\tBoulangerie Lemoine\tF-100\t"
           "20260901\tFacture F-100\t1200,00\t0,00\t\t\t20260901\t\t\t8 place Bellecour\t"
           "69002\tLyon\t55210055400013\n")
    report = import_fec(files, fec.encode(), "import", PaymentTerms.parse("30"))
    assert (report.created, report.debtors_updated) == (1, 1)
    record = files.debtor_record("C001")
    assert record.mailing_address() == "8 place Bellecour\n69002 LYON"
    assert record.identity["siret"] == "55210055400013"


# -- e-mails and letters ----------------------------------------------------------------


def sent_to(folder) -> list[str]:
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)]
    return [str(m["To"]) for m in messages]


def test_emails_go_to_the_billing_contact_never_to_no_address_when_one_is_known(
        runtime, tmp_path):
    runtime.outbox = FileOutbox(tmp_path)
    files = runtime.files
    paul = Contact("Paul Martin", "Acheteur")                       # no address on the invoice
    files.register_invoice("alice", **register_kwargs(billing_recipient=paul))
    files.log_call("bruno", "FA-2026-0001",
                   contact=Contact("Paul Martin", email="paul@acme.example"),
                   outcome=CallOutcome.VOICEMAIL)
    settle(runtime)
    assert send_by_email(runtime, "FA-2026-0001", "reminder_1", "bruno").recipient == \
        "paul@acme.example"                                               # merged by his name

    files.record_debtor_person("alice", ACME.account, name="Sophie Bernard",
                               role="accounts_payable", email="compta@acme.example")
    files.record_debtor_person("alice", ACME.account, name="Luc Petit", role="billing",
                               email="factures@acme.example")
    settle(runtime)
    assert send_by_email(runtime, "FA-2026-0001", "reminder_2", "bruno").recipient == \
        "factures@acme.example"                                           # the billing role first
    chosen = send_by_email(runtime, "FA-2026-0001", "reminder_2", "bruno",
                           recipient="compta@acme.example")
    assert chosen.recipient == "compta@acme.example"
    assert sent_to(tmp_path) == ["paul@acme.example", "factures@acme.example",
                                 "compta@acme.example"]
    assert known_contacts(runtime, "FA-2026-0001")[0].email == "factures@acme.example"


def test_a_letter_carries_the_debtors_postal_address_and_its_billing_contact(runtime):
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(billing_recipient=JEAN))
    files.change_debtor_identity("alice", ACME.account, changes={
        "legal_name": "ACME SARL", "registered_office": "1 avenue du Siège\n75008 PARIS"})
    letter = preview(runtime, "FA-2026-0001", "formal_notice", "Bruno Petit")
    assert "1 avenue du Siège" in letter.html
    assert "75008 PARIS" in letter.html
    files.change_debtor_identity("alice", ACME.account, changes={
        "billing_address": "BP 42\n69002 LYON CEDEX 02"})
    letter = preview(runtime, "FA-2026-0001", "formal_notice", "Bruno Petit")
    assert "BP 42" in letter.html                                   # the billing address first
    assert "avenue du Siège" not in letter.html
    assert "À l'attention de Jean Dupont" in letter.html


def test_a_facturx_invoice_gives_the_buyers_postal_address(runtime):
    data = {
        "BT-24": "urn:factur-x.eu:1p0:basicwl", "BT-1": "FX-9", "BT-3": "380",
        "BT-2": date(2026, 10, 1), "BT-5": "EUR", "BT-9": date(2026, 10, 31),
        "BT-72": date(2026, 9, 28),
        "BG-4": {"name": "Menuiseries Arnaud SAS", "country_code": "FR"},
        "BG-7": {"name": "Dupuis & Fils", "identifiers": {"": "411DUP"},
                 "addr_l1": "3 quai Perrache", "addr_l2": "Bâtiment B", "postcode": "69002",
                 "city": "Lyon", "country_code": "FR"},
        "BG-23": [{"BT-116": "1250.00", "BT-117": "250.00", "BT-118": "S", "BT-119": "20.00"}],
        "BT-106": "1250.00", "BT-109": "1250.00", "BT-110": "250.00", "BT-112": "1500.00",
        "BT-115": "1500.00",
    }
    xml = facturx.generate_cii_xml(data, level="basicwl", check_schematron=False)
    pdf = facturx.generate_from_binary(HTML(string="<h1>FX-9</h1>").write_pdf(), xml,
                                       check_xsd=False)
    report = import_facturx(runtime.files, pdf, "import", PaymentTerms.parse("30"))
    assert (report.created, report.debtors_updated) == (1, 1)
    assert runtime.files.debtor_record("411DUP").mailing_address() == (
        "3 quai Perrache\nBâtiment B\n69002 LYON")


def test_an_identity_recorded_first_does_not_keep_the_owner_rules_away(runtime):
    files = runtime.files
    files.register_invoice("import", **register_kwargs("FA-1"))         # no rule yet
    files.change_debtor_identity("alice", ACME.account, changes={"legal_form": "SARL"})
    files.set_owner_rules("sophie", [OwnerRule("bruno")], reason="tout à Bruno")
    files.register_invoice("import", **register_kwargs("FA-2"))
    assert files.debtor_record(ACME.account).owner == "bruno"
