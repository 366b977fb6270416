"""« Envois » and « À valider » over real HTTP: a supervisor launches the daily run from the
page, a real SMTP server on loopback receives what goes out, messages to validate are
read, edited, sent or set aside, and the day's letters print as one PDF."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from io import BytesIO

import httpx
import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from adapters.usecases import campaign
from domain.dispatch import dispatch_id
from domain.values import CallOutcome, Channel, Contact, Debtor, PaymentMeans
from tests.builders import ACME, GLOBEX, eur, free_port, register_kwargs
from tests.e2e.campaign_setup import SlowServer
from tests.e2e.conftest import _serve, hidden, log_in

MARIE = Contact(name="Marie Roux", function="Comptable", phone="01 09 08 07 06",
                email="marie.roux@globex.example")


@pytest.fixture
def smtp():
    """A real SMTP server on loopback, counting what it receives."""
    handler, port = SlowServer(), free_port()
    handler.url = f"smtp://127.0.0.1:{port}"
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def served(store_url, smtp):
    """relance served on the store under test, sending its e-mails to the SMTP server."""
    server, uv, thread = _serve(store_url, smtp_url=smtp.url)
    yield server
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def chef(served):
    """A supervisor, logged in."""
    http = log_in(served, "chef.equipe", "supervisor")
    yield http
    http.close()


def first_reminder(chef: httpx.Client, *, mode: str, channel: str = "email",
                   notice: str = "validate") -> None:
    """Sets, through the scenario editor, a reference scenario whose first reminder (on the
    due date) is in `mode` on `channel`, any day of the week, then a call and a formal
    notice (in mode `notice`)."""
    form = chef.get("/reglages/scenarios/reference").text
    saved = chef.post("/reglages/scenarios/reference", data={
        "csrf": hidden(form), "title": "Référence", "gap": "3", "reason": "Envoi du jour",
        "s0_offset": "0", "s0_kind": "reminder", "s0_channel": channel,
        "s0_template": "reminder_1", "s0_label": "première relance", "s0_level": "1",
        "s0_mode": mode, "s0_any_day": "on",
        "s1_offset": "8", "s1_kind": "call", "s1_channel": "call",
        "s1_template": "call_confirmation", "s1_label": "appel", "s1_mode": "auto",
        "s2_offset": "30", "s2_kind": "formal_notice", "s2_channel": "letter",
        "s2_template": "formal_notice", "s2_label": "mise en demeure", "s2_mode": notice,
        "s2_any_day": "on", "s2_attach_invoice": "on"})
    assert saved.status_code == 303, saved.text


def register(served, number: str, debtor: Debtor = ACME, contact: Contact | None = None,
             late: int = 0) -> None:
    runtime = served.app.state.runtime
    today = runtime.today()
    runtime.files.register_invoice("import", **register_kwargs(
        number, debtor=debtor, issued_on=today - timedelta(days=late + 30),
        due_on=today - timedelta(days=late),
        **({"billing_recipient": contact} if contact else {})))


def launch(chef: httpx.Client) -> str:
    """Clicks « Lancer l'envoi maintenant » and waits for the run to end; the page then."""
    page = chef.get("/envois").text
    started = chef.post("/envois/lancer", data={"csrf": hidden(page)})
    assert started.status_code == 303
    assert started.headers["location"] == "/envois"
    return finished(chef)


def finished(chef: httpx.Client) -> str:
    """« Envois » once the run launched from the page has ended."""
    deadline = time.monotonic() + 60
    while "Envoi en cours" in (page := chef.get("/envois").text):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)
    return html.unescape(page)


def message_row(page: str, account: str) -> str:
    """The text of a debtor's rows on « Envois »."""
    block = page.split(f'data-account="{account}"', 1)[1].split("</tbody>", 1)[0]
    return re.sub(r"<[^>]+>", " ", block)


def card(page: str, account: str) -> str:
    """A debtor's message on « À valider », as HTML."""
    return page.split(f'data-account="{account}"', 1)[1].split("</section>", 1)[0]


def test_a_supervisor_launches_the_run_and_sees_the_message_sent(served, chef, smtp):
    first_reminder(chef, mode="auto")
    for number in ("ENV-1", "ENV-2", "ENV-3"):
        register(served, number)
    settings = html.unescape(chef.get("/reglages").text)
    assert "J : première relance — e-mail, première relance — automatique, aussi le " \
           "week-end et les jours fériés" in settings
    assert "J+8 : appel — appel, confirmation d'appel — manuel" in settings  # a call is
    assert "mise en demeure — à valider, aussi le week-end et les jours fériés, facture " \
           "jointe" in settings

    page = launch(chef)
    (message,) = smtp.messages
    assert message["To"] == "jean.dupont@acme.example"
    body = message.get_body(("plain",)).get_content()
    assert all(number in body for number in ("ENV-1", "ENV-2", "ENV-3"))
    row = message_row(page, "411ACME")
    assert "ACME SARL" in row
    assert "Première relance" in row
    assert "e-mail" in row
    assert "envoyé" in row
    assert "ENV-1 ,  ENV-2 ,  ENV-3" in row
    assert "jean.dupont@acme.example" in row
    assert re.search(r"Envoyés<strong>1</strong>", page)
    runs = page.split('id="passages"', 1)[1]
    assert "Chef.Equipe" in runs
    assert "1 envoyé" in runs
    # Launched again the same day, nothing goes out twice.
    launch(chef)
    assert len(smtp.messages) == 1


def test_a_message_to_validate_is_edited_and_sent_and_another_is_set_aside(served, chef,
                                                                           smtp):
    first_reminder(chef, mode="validate")
    register(served, "VAL-ACME")
    register(served, "VAL-GLOB", debtor=GLOBEX, contact=MARIE)
    page = launch(chef)
    assert re.search(r"À valider<strong>2</strong>", page)
    assert smtp.messages == []
    assert "À valider (2)" in page                                 # in the navigation bar

    queue = chef.get("/envois/a-valider").text
    acme = card(queue, "411ACME")
    shown = html.unescape(acme.split('name="texte"', 1)[1].split(">", 1)[1]
                          .split("</textarea>", 1)[0])
    assert "VAL-ACME" in shown
    subject = html.unescape(acme.split('name="objet" value="', 1)[1].split('"', 1)[0])
    edited = shown.replace("Madame, Monsieur,", "Cher Monsieur Dupont,", 1) + \
        "\nNous restons à votre écoute au 01 00 00 00 00.\n"
    sent = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "envoyer", "cle": hidden(acme, "cle"),
        "empreinte": hidden(acme, "empreinte"), "objet": subject + " (revu)",
        "texte": edited.replace("\n", "\r\n")})
    assert sent.status_code == 303, sent.text
    (message,) = smtp.messages
    assert message["Subject"] == subject + " (revu)"
    body = message.get_body(("plain",)).get_content()
    assert "Nous restons à votre écoute au 01 00 00 00 00." in body
    assert "VAL-ACME" in body
    assert "1 message envoyé" in html.unescape(chef.get(sent.headers["location"]).text)

    queue = chef.get("/envois/a-valider").text
    globex = card(queue, "411GLOB")
    no_reason = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "ecarter", "cle": hidden(globex, "cle"),
        "motif": "  "})
    assert no_reason.status_code == 422
    assert "Indiquez pourquoi le message est écarté" in html.unescape(no_reason.text)
    skipped = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "ecarter", "cle": hidden(globex, "cle"),
        "motif": "Redressement judiciaire en cours : voir avec l'avocat"})
    assert skipped.status_code == 303
    again = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "envoyer", "cle": hidden(acme, "cle"),
        "empreinte": hidden(acme, "empreinte"), "objet": subject, "texte": shown})
    assert again.status_code == 409                               # already sent
    assert "Ce message n'est plus en attente" in html.unescape(again.text)
    assert len(smtp.messages) == 1

    page = html.unescape(chef.get("/envois").text)
    acme_row, globex_row = message_row(page, "411ACME"), message_row(page, "411GLOB")
    assert "envoyé" in acme_row
    assert "(texte modifié)" in acme_row
    assert "Chef.Equipe" in acme_row
    assert "écarté" in globex_row
    assert "Redressement judiciaire en cours : voir avec l'avocat" in globex_row
    assert re.search(r"Écartés<strong>1</strong>", page)
    assert "Aucun message à valider." in html.unescape(chef.get("/envois/a-valider").text)


def test_the_days_letters_download_as_one_pdf_and_a_formal_notice_gets_its_number(
        served, chef, smtp):
    first_reminder(chef, mode="auto", channel="letter", notice="auto")
    runtime = served.app.state.runtime
    files, now = runtime.files, runtime.clock()
    register(served, "LET-ACME")
    register(served, "LET-GLOB", debtor=GLOBEX, contact=MARIE, late=40)
    for account, address in (("411ACME", "12 rue des Lilas\n69003 LYON"),
                             (GLOBEX.account, "3 quai Sud\n44000 NANTES")):
        files.change_debtor_identity("chef.equipe", account,
                                     changes={"billing_address": address})
    files.send_reminder("chef.equipe", "LET-GLOB", channel=Channel.LETTER, level=1,
                        occurred_at=now - timedelta(days=40))
    files.log_call("chef.equipe", "LET-GLOB", contact=MARIE, outcome=CallOutcome.VOICEMAIL,
                   summary="Message laissé", occurred_at=now - timedelta(days=32))
    page = launch(chef)
    assert smtp.messages == []
    assert re.search(r"Lettres à poster<strong>2</strong>", page)
    assert "Première relance" in message_row(page, "411ACME")
    assert "Mise en demeure" in message_row(page, "411GLOB")
    link = re.search(r'href="(/envois/[0-9-]+/lettres\.pdf)">Lettres du jour \(PDF\)', page)
    assert link is not None
    pdf = chef.get(link.group(1))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="lettres-')
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    assert "2 lettres à mettre sous pli" in text
    assert "LET-ACME" in text
    assert "69003 LYON" in text  # the letter's address window
    assert "MISE EN DEMEURE" in text.upper()
    missing = chef.get("/envois/2001-01-01/lettres.pdf")
    assert missing.status_code == 404
    assert "Aucune lettre à imprimer ce jour-là." in html.unescape(missing.text)

    # The reminder letter is recorded at print time; the formal notice once posted.
    assert files.history("LET-ACME")[-1].kind == "ReminderSent"
    assert "FormalNoticeSent" not in {fact.kind for fact in files.history("LET-GLOB")}
    form = page.split('data-account="411GLOB"', 1)[1]
    assert "N° de recommandé" in form
    empty = chef.post("/envois/poste", data={"csrf": hidden(form), "cle": hidden(form, "cle"),
                                             "jour": hidden(form, "jour"), "numero": " "})
    assert empty.status_code == 422
    assert "Le numéro de recommandé tient sur une ligne" in html.unescape(empty.text)
    posted = chef.post("/envois/poste", data={
        "csrf": hidden(form), "cle": hidden(form, "cle"), "jour": hidden(form, "jour"),
        "numero": "1A 123 456 7890 1"})
    assert posted.status_code == 303
    fact = files.history("LET-GLOB")[-1]
    assert fact.kind == "FormalNoticeSent"
    assert fact.data["registered_letter_number"] == "1A 123 456 7890 1"
    page = html.unescape(chef.get(posted.headers["location"]).text)
    assert "postée, recommandé n° 1A 123 456 7890 1" in message_row(page, "411GLOB")
    wrong = chef.post("/envois/poste", data={
        "csrf": hidden(form), "cle": "2001-01-01/411GLOB/formal_notice", "numero": "1A 2"})
    assert wrong.status_code == 409
    assert "Ce message n'est plus en attente" in html.unescape(wrong.text)


def test_an_agent_may_not_launch_the_run(served, smtp):
    agent = log_in(served, "agent.test", "agent")
    page = agent.get("/envois")
    assert page.status_code == 200
    assert "Lancer l'envoi maintenant" not in page.text
    refused = agent.post("/envois/lancer", data={"csrf": hidden(page.text)})
    assert refused.status_code == 403
    assert "Cette action n'est pas permise avec votre rôle" in html.unescape(refused.text)
    assert smtp.messages == []
    assert served.app.state.runtime.reads.runs() == []


def test_an_agent_validates_her_own_debtors_messages_unless_she_asks_for_all(served, chef,
                                                                            smtp):
    first_reminder(chef, mode="validate")
    register(served, "OWN-ACME")
    register(served, "OWN-GLOB", debtor=GLOBEX, contact=MARIE)
    agent = log_in(served, "amelie.martin", "agent")
    served.app.state.runtime.files.assign_debtors("chef.equipe", ["411ACME"],
                                                  agent="amelie.martin")
    launch(chef)
    mine = html.unescape(agent.get("/envois/a-valider").text)
    assert "À valider (1)" in mine
    assert 'data-account="411ACME"' in mine
    assert 'data-account="411GLOB"' not in mine
    everyone = html.unescape(agent.get("/envois/a-valider", params={"tous": "1"}).text)
    assert 'data-account="411ACME"' in everyone
    assert 'data-account="411GLOB"' in everyone
    assert 'name="tous" value="1"' in everyone
    assert "À valider (2)" in html.unescape(chef.get("/envois").text)
    auditor = log_in(served, "audrey.audit", "auditor")
    assert auditor.get("/envois").status_code == 200
    assert auditor.get("/envois/a-valider").status_code == 403


def test_a_message_changed_since_it_was_shown_is_read_again_before_it_goes(served, chef,
                                                                          smtp):
    first_reminder(chef, mode="validate")
    register(served, "CHG-1")
    register(served, "CHG-2")
    launch(chef)
    queue = chef.get("/envois/a-valider").text
    acme = card(queue, "411ACME")
    runtime = served.app.state.runtime
    runtime.files.receive_payment("import", "CHG-2", amount=eur("1500.00"),
                                  received_on=runtime.today(), means=PaymentMeans.TRANSFER)
    shown = html.unescape(acme.split('name="texte"', 1)[1].split(">", 1)[1]
                          .split("</textarea>", 1)[0])
    assert "CHG-2" in shown
    late = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "envoyer", "cle": hidden(acme, "cle"),
        "empreinte": hidden(acme, "empreinte"), "texte": shown,
        "objet": html.unescape(hidden(acme, "objet"))})
    assert late.status_code == 409
    again = html.unescape(late.text)
    assert "Le message a changé depuis son affichage" in again
    assert "Retirées du message depuis sa préparation : CHG-2" in again
    assert smtp.messages == []
    fresh = card(late.text, "411ACME")
    sent = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "envoyer", "cle": hidden(fresh, "cle"),
        "empreinte": hidden(fresh, "empreinte"), "objet": html.unescape(hidden(fresh, "objet")),
        "texte": html.unescape(fresh.split('name="texte"', 1)[1].split(">", 1)[1]
                               .split("</textarea>", 1)[0])})
    assert sent.status_code == 303
    (message,) = smtp.messages
    body = message.get_body(("plain",)).get_content()
    assert "CHG-1" in body
    assert "CHG-2" not in body
    page = html.unescape(chef.get("/envois").text)
    row = message_row(page, "411ACME")
    assert "Retirées du message : CHG-2" in row
    assert "(texte modifié)" not in row                        # sent as the team wrote it


def test_an_uncertain_message_is_settled_by_whoever_checked_the_mailbox(served, chef, smtp):
    first_reminder(chef, mode="auto")
    register(served, "INC-ACME")
    register(served, "INC-GLOB", debtor=GLOBEX, contact=MARIE)
    runtime = served.app.state.runtime
    # The run died after telling its messages « sending », before the server answered.
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    keys = campaign.plan(runtime, runtime.today())
    for key in keys:
        dispatch = runtime.files.repository.get(dispatch_id(key))
        dispatch.start_sending(at=runtime.clock(), numbers=dispatch.numbers, dropped={},
                               recipient=dispatch.recipient, sha256="", attachments=[])
        runtime.files.save(dispatch)
    assert len(keys) == 2
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    campaign.reconcile(runtime)
    queue = chef.get("/envois/a-valider").text
    assert "Le serveur a peut-être reçu ce message avant l'interruption de l'envoi : " \
           "vérifiez dans la boîte d'envoi." in html.unescape(queue)
    went = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "parti", "cle": hidden(card(queue, "411ACME"), "cle")})
    assert went.status_code == 303
    assert runtime.files.history("INC-ACME")[-1].kind == "ReminderSent"
    did_not = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "pas_parti",
        "cle": hidden(card(queue, "411GLOB"), "cle")})
    assert did_not.status_code == 303
    twice = chef.post("/envois/a-valider", data={
        "csrf": hidden(queue), "action": "parti", "cle": hidden(card(queue, "411GLOB"), "cle")})
    assert twice.status_code == 409
    assert "Ce message n'est plus en attente" in html.unescape(twice.text)
    assert runtime.files.history("INC-GLOB")[-1].kind == "InvoiceRegistered"
    page = launch(chef)                          # the one that did not go out goes now
    (message,) = smtp.messages
    assert message["To"] == "marie.roux@globex.example"
    assert "envoyé" in message_row(page, "411ACME")
    assert "Chef.Equipe" in message_row(page, "411ACME")
    assert "envoyé" in message_row(page, "411GLOB")


def test_a_second_launch_while_the_run_sends_says_one_is_under_way(served, chef, smtp):
    first_reminder(chef, mode="auto")
    register(served, "SLOW-1")
    smtp.delay = 2.0
    page = chef.get("/envois").text
    first = chef.post("/envois/lancer", data={"csrf": hidden(page)})
    second = chef.post("/envois/lancer", data={"csrf": hidden(page)})
    assert first.headers["location"] == "/envois"
    assert second.headers["location"] == "/envois?deja=1"
    busy = html.unescape(chef.get(second.headers["location"]).text)
    assert "Un envoi est déjà en cours" in busy
    assert "Envoi en cours… lancé par Chef.Equipe" in busy
    assert '<meta http-equiv="refresh"' in busy
    page = finished(chef)
    assert "Un envoi est déjà en cours" not in page
    assert "envoyé" in message_row(page, "411ACME")
    assert len(smtp.messages) == 1


def test_hostile_or_stale_forms_are_answered_in_french_never_with_a_500(served, chef, smtp):
    page = chef.get("/envois").text
    csrf = hidden(page)
    bad_day = chef.get("/envois", params={"jour": "31/02/2026"})
    assert bad_day.status_code == 422
    assert "Date illisible : écrivez-la JJ/MM/AAAA." in html.unescape(bad_day.text)
    assert chef.get("/envois/pas-une-date/lettres.pdf").status_code == 404
    answers = {
        "unknown action": ({"action": "tout-casser"}, 422, "Le formulaire ne se lit pas"),
        "nothing ticked": ({"action": "envoyer_selection"}, 422, "Cochez au moins un message."),
        "no reason": ({"action": "ecarter_selection", "choix": "x", "motif_selection": ""},
                      422, "Indiquez pourquoi le message est écarté"),
        "unknown message": ({"action": "envoyer", "cle": "2026-01-01/411X/reminder_1",
                             "objet": "Objet", "texte": "Texte", "empreinte": "0"}, 409,
                            "Ce message n'est plus en attente"),
        "too long": ({"action": "envoyer", "cle": "k", "objet": "Objet",
                      "texte": "x" * 30_000}, 422, "trop long"),
        "empty": ({"action": "envoyer", "cle": "k", "objet": " ", "texte": "Texte"}, 422,
                  "ne peuvent pas être vides"),
        "settled twice": ({"action": "parti", "cle": "<script>alert(1)</script>"}, 409,
                          "Ce message n'est plus en attente"),
    }
    for name, (data, status, french) in answers.items():
        answer = chef.post("/envois/a-valider", data={"csrf": csrf, **data})
        assert answer.status_code == status, name
        assert french in html.unescape(answer.text), name
        assert "<script>alert(1)</script>" not in answer.text, name
    posted = chef.post("/envois/poste", data={"csrf": csrf, "cle": "nulle/part",
                                              "numero": "1A 2"})
    assert posted.status_code == 409
    assert chef.post("/envois/a-valider", data={"action": "parti"}).status_code == 403
    form = chef.get("/reglages/scenarios/reference").text
    turbo = chef.post("/reglages/scenarios/reference", data={
        "csrf": hidden(form), "title": "Référence", "gap": "3", "reason": "Essai",
        "s0_offset": "0", "s0_kind": "reminder", "s0_channel": "email",
        "s0_template": "reminder_1", "s0_label": "relance", "s0_level": "1",
        "s0_mode": "turbo"})
    assert turbo.status_code == 422
    assert "Choisissez le mode de l'étape : automatique, à valider ou manuel." in \
        html.unescape(turbo.text)


def test_the_scenario_editor_shows_each_steps_mode_days_and_attachment(served, chef, smtp):
    form = chef.get("/reglages/scenarios/reference").text
    assert "Un appel est toujours manuel" in html.unescape(form)
    # The shipped reference scenario: the e-mails automatic, the calls manual, the formal
    # notice to validate; a new step's row offers « à valider » first.
    modes = re.findall(r'name="s(\d+)_mode".*?<option value="(\w+)" selected', form)
    assert modes == [("0", "auto"), ("1", "auto"), ("2", "manual"), ("3", "auto"),
                     ("4", "manual"), ("5", "validate"), ("6", "validate"), ("7", "validate"),
                     ("8", "validate")]
    first_reminder(chef, mode="validate")
    form = chef.get("/reglages/scenarios/reference").text
    assert re.search(r'name="s0_mode".*?<option value="validate" selected', form)
    assert 'name="s0_any_day" value="on" checked' in form
    assert 'name="s0_attach_invoice" value="on" checked' not in form
    assert 'name="s2_attach_invoice" value="on" checked' in form
    step = served.app.state.runtime.files.playbook().scenario("reference").steps[1]
    assert (step.channel, step.mode, step.run_mode) == (Channel.CALL, "manual", "manual")
