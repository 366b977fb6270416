"""What debtors send back, where the team works: a reply waits on the agent's day and on
the file until she handles it; a message found for nobody waits in « Courrier » until a
person gives it to a debtor or sets it aside; a failing address shows on the debtor's
page until somebody says it was corrected; the message itself downloads as received."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.usecases.replies import take_in
from domain.mail import BOUNCE, REPLY, Arrival, Destination
from domain.values import Channel, Debtor
from tests.builders import ACME, GLOBEX, eur, register_kwargs
from tests.e2e.conftest import PASSWORD, browser_log_in, hidden, submit_login

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
WORDS = ("Bonjour,\n\nNous avons bien reçu votre relance.\nLe virement part vendredi.\n"
         "Il reste un écart de 12 € sur la ligne 3 : <script>alert(1)</script>\n\n"
         "Cordialement,\nJean Dupont")


def _plain(text: str) -> str:
    return html.unescape(text).replace("\u202f", " ").replace("\xa0", " ")


def _words(page: str) -> str:
    """What a page says, without its tags, its spaces collapsed."""
    return " ".join(_plain(re.sub(r"<[^>]+>", " ", page)).split())


def _raw(message_id: str, sender: str, subject: str, text: str) -> bytes:
    return (f"Message-ID: {message_id}\r\nFrom: {sender}\r\nTo: relance@creancier.example\r\n"
            f"Subject: {subject}\r\nDate: Mon, 30 Nov 2026 09:12:00 +0100\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + text.replace("\n", "\r\n") + "\r\n").encode()


def _receive(runtime, message_id: str, destination: Destination, *, kind: str = REPLY,
             sender: str = "jean.dupont@acme.example", sender_name: str = "Jean Dupont",
             subject: str = "Re: Relance facture ML-ACME-1", text: str = WORDS,
             **extra) -> Arrival:
    """A message as the mailbox reader records it, its bytes kept first."""
    raw = _raw(message_id, sender, subject, text)
    arrival = Arrival(message_id=message_id, sha256=runtime.blobs.put(raw, "message/rfc822"),
                      size=len(raw), kind=kind, sender=sender, sender_name=sender_name,
                      subject=subject, sent_at=None, text=text, **extra)
    recorded = runtime.files.receive_mail("courrier", arrival, destination)
    assert runtime.wait_for_views(recorded.notification_id)
    return arrival


def _person(server, login: str, name: str, role: str) -> httpx.Client:
    """A new account of the team, logged in."""
    server.app.state.runtime.accounts.add(login, name, role, PASSWORD)
    http = httpx.Client(base_url=server.url, timeout=10, follow_redirects=False)
    assert submit_login(http, login, PASSWORD).status_code == 303
    return http


def _seed(runtime) -> None:
    """Amélie follows ACME (two files, reminded by e-mail) and Globex (one file, closed)."""
    today = runtime.today()
    files = runtime.files
    for number, debtor in (("ML-ACME-1", ACME), ("ML-ACME-2", ACME), ("ML-GLOB-1", GLOBEX)):
        files.register_invoice("import", **register_kwargs(
            number, debtor=debtor, amount=eur("1800.00"), issued_on=today - timedelta(days=70),
            due_on=today - timedelta(days=40)))
    files.assign_debtors("sophie", [ACME.account, GLOBEX.account], agent="amelie.martin")
    files.send_reminder("relance", ["ML-ACME-1", "ML-ACME-2"], channel=Channel.EMAIL,
                        level=1, recipient="jean.dupont@acme.example",
                        message_id="<relance.1@creancier.example>")
    closed = files.close_file("sophie", "ML-GLOB-1", reason="Réglé par compensation")
    assert runtime.wait_for_views(closed.notification_id)


def _reply_version(runtime, number: str) -> int:
    (version,) = runtime.files.case(number).replies_waiting
    return version


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`."""
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_an_agent_reads_a_reply_on_her_day_and_on_the_file_and_handles_it(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    _receive(runtime, "<r1@acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                      "thread"), answers="<relance.1@x>")
    version = _reply_version(runtime, "ML-ACME-1")
    amelie = _person(server, "amelie.martin", "Amélie Martin", "agent")

    day = _plain(amelie.get("/journee").text)
    assert "Réponses à traiter (1)" in day
    assert "ACME SARL" in day
    assert "Jean Dupont" in day
    assert "<jean.dupont@acme.example>" in day
    assert "Re: Relance facture ML-ACME-1" in day
    assert "Nous avons bien reçu votre relance." in day     # the first lines...
    assert "Cordialement" not in day                          # ...not the whole text
    assert f'href="/dossiers/ML-ACME-1#reponse-{version}"' in day

    page = amelie.get("/dossiers/ML-ACME-1").text
    card = page.split(f'id="reponse-{version}"', 1)[1].split("</article>", 1)[0]
    assert "Cordialement,\nJean Dupont" in _plain(card)      # the whole text, lines kept
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "<script>alert" not in card
    assert "réponse à notre message" in _plain(card)
    record = runtime.reads.incoming()[0]["id"]
    assert f'href="/courrier/{record}/message.eml"' in card
    assert page.index('id="reponses"') < page.index('id="appel"')  # before the call form
    header = _words(page.split('id="prochaine-action"', 1)[1].split("</p>", 1)[0])
    assert "À faire aujourd'hui : lire et traiter la réponse du débiteur" in header
    assert "les relances automatiques l'attendent ; ensuite :" in header
    assert 'id="form-reponse"' not in page                    # not among « Autre action »

    fields = _form_fields(page, "/dossiers/ML-ACME-1/faits/reponse")
    assert fields["reply"] == str(version)
    empty = amelie.post("/dossiers/ML-ACME-1/faits/reponse", data={**fields, "outcome": ""})
    assert empty.status_code == 422
    assert "Ce champ est obligatoire." in _plain(empty.text)
    assert runtime.files.case("ML-ACME-1").replies_waiting == (version,)

    handled = amelie.post("/dossiers/ML-ACME-1/faits/reponse", data={
        **fields, "outcome": "dispute", "details": "écart de 12 € sur la ligne 3"})
    assert handled.status_code == 303
    assert handled.headers["location"].endswith("&fait=reponse&suite=litige#form-litige")
    after = amelie.get(handled.headers["location"].split("#")[0]).text
    assert "Réponse traitée." in after
    assert "Enregistrez maintenant le litige" in after
    assert re.search(r'<details class="list-group-item" name="autre" id="form-litige" open>',
                     after)
    # The dispute's form starts from the reply: its subject and its words.
    assert 'id="f-litige-reason" name="reason" value="Re: Relance facture ML-ACME-1"' in after
    details = html.unescape(after.split('id="f-litige-details"')[1][:600])
    assert "Le virement part vendredi." in details
    assert 'id="reponses"' not in after
    last = runtime.files.history("ML-ACME-1")[-1]
    assert (last.kind, last.actor, last.data["outcome"]) == (
        "ReplyHandled", "amelie.martin", "dispute")
    assert "Réponses à traiter" not in amelie.get("/journee").text
    amelie.close()


def test_the_team_board_lists_every_reply_and_counts_what_waits_in_courrier(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    _receive(runtime, "<r1@acme.example>", Destination(ACME.account,
                                                      ("ML-ACME-1", "ML-ACME-2"), "thread"))
    _receive(runtime, "<x1@ailleurs.example>", Destination(), sender="paul@ailleurs.example",
             sender_name="Paul", subject="Facture ?")
    _receive(runtime, "<dsn1@mx.acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                           "thread"),
             kind=BOUNCE, sender="mailer-daemon@mx.acme.example", sender_name="",
             subject="Undelivered Mail", text="", failed_recipient="compta@acme.example",
             diagnostic="550 5.1.1 user unknown")
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    chef = _person(server, "sophie.durand", "Sophie Durand", "supervisor")
    board = chef.get("/equipe").text
    assert 'id="compte-non-rattache">1<' in board
    assert 'id="compte-adresses">1<' in board
    assert 'href="/courrier#non-rattache"' in board
    assert 'href="/courrier#adresses"' in board
    replies = _plain(board.split('id="reponses"', 1)[1].split("</section>", 1)[0])
    assert "Jean Dupont" in replies
    assert "Amélie Martin" in replies
    assert "Traiter sur ML-ACME-1" in replies
    assert "Traiter sur ML-ACME-2" in replies
    chef.close()


def test_a_supervisor_attaches_a_stray_message_to_a_debtor_and_sets_another_aside(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    stray = _receive(runtime, "<x1@ailleurs.example>", Destination(),
                     sender="paul.martin@filiale-acme.example", sender_name="Paul Martin",
                     subject="Votre facture de septembre")
    spam = _receive(runtime, "<x2@pub.example>", Destination(), sender="promo@pub.example",
                    sender_name="Promo", subject="Offre spéciale", text="-50 % !")
    ids = {r["key"]: r["id"] for r in runtime.reads.incoming()}
    chef = _person(server, "sophie.durand", "Sophie Durand", "supervisor")
    page = chef.get("/courrier").text
    assert "Courrier non rattaché (2)" in _plain(page)
    assert "Votre facture de septembre" in page
    assert "Offre spéciale" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    csrf = hidden(page)
    attach = f"/courrier/{ids[stray.key]}/rattacher"

    forged = chef.post(attach, data={"debiteur": ACME.account})          # no CSRF token
    assert forged.status_code == 403
    unknown = chef.post(attach, data={"csrf": csrf, "debiteur": "Initech"})
    assert unknown.status_code == 422
    assert "Aucun débiteur ne correspond à « Initech »" in _plain(unknown.text)
    closed = chef.post(attach, data={"csrf": csrf, "debiteur": GLOBEX.account})
    assert closed.status_code == 422
    assert "Globex SA n'a aucun dossier ouvert" in _plain(closed.text)
    assert runtime.reads.incoming_one(stray.key)["state"] == "unattached"

    attached = chef.post(attach, data={"csrf": csrf, "debiteur": "acme"})  # by its name
    assert attached.status_code == 303
    done = _plain(chef.get(attached.headers["location"]).text)
    assert "Message rattaché" in done
    assert "Courrier non rattaché (1)" in done
    for number in ("ML-ACME-1", "ML-ACME-2"):
        file_page = _plain(chef.get(f"/dossiers/{number}").text)
        assert "Votre facture de septembre" in file_page.split('id="reponses"')[1]
        assert "rattaché à la main" in file_page

    discard = f"/courrier/{ids[spam.key]}/ecarter"
    no_reason = chef.post(discard, data={"csrf": csrf, "motif": "  "})
    assert no_reason.status_code == 422
    assert "Indiquez pourquoi ce message est écarté" in _plain(no_reason.text)
    set_aside = chef.post(discard, data={"csrf": csrf, "motif": "publicité"})
    assert set_aside.status_code == 303
    listed = _plain(chef.get(set_aside.headers["location"]).text)
    assert "Message écarté." in listed
    assert "Aucun message en attente" in listed
    recent = _words(listed.split('id="derniers-messages"', 1)[1])
    assert "écarté par Sophie Durand" in recent
    assert "publicité" in recent
    assert "rattaché à la main par Sophie Durand" in recent

    again = chef.post(discard, data={"csrf": csrf, "motif": "doublon"})
    assert again.status_code == 422
    assert "n'est plus dans le courrier non rattaché" in _plain(again.text)
    assert chef.post("/courrier/" + "0" * 32 + "/ecarter",
                     data={"csrf": csrf, "motif": "x"}).status_code == 404
    chef.close()


def test_a_failing_address_shows_on_the_debtors_page_until_it_is_corrected(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    _receive(runtime, "<dsn1@mx.acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                           "thread"),
             kind=BOUNCE, sender="mailer-daemon@mx.acme.example", sender_name="",
             subject="Undelivered Mail", text="", failed_recipient="jean.dupont@acme.example",
             diagnostic="550 5.1.1 user unknown")
    amelie = _person(server, "amelie.martin", "Amélie Martin", "agent")
    page = amelie.get(f"/debiteurs/{ACME.account}").text
    people = _plain(page.split("Personnes connues", 1)[1])
    assert "adresse en échec : 550 5.1.1 user unknown" in people
    fields = _form_fields(page, "/courrier/adresse-corrigee")
    assert (fields["compte"], fields["adresse"], fields["retour"]) == (
        ACME.account, "jean.dupont@acme.example", "debiteur")

    cleared = amelie.post("/courrier/adresse-corrigee", data={
        **fields, "motif": "adresse vérifiée par téléphone"})
    assert cleared.status_code == 303
    after = _plain(amelie.get(cleared.headers["location"]).text)
    assert "Adresse corrigée : relance peut de nouveau y écrire." in after
    assert "adresse en échec" not in after
    assert runtime.reads.failing_addresses() == []
    unknown = amelie.post("/courrier/adresse-corrigee", data={
        **fields, "compte": "411PERSONNE"})
    assert unknown.status_code == 404
    assert "Aucun débiteur avec ce compte." in _plain(unknown.text)
    amelie.close()


def test_a_message_downloads_as_it_was_received_and_never_as_a_page(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    arrival = _receive(runtime, "<r1@acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                                "thread"))
    record = runtime.reads.incoming_one(arrival.key)["id"]
    auditor = _person(server, "claire.petit", "Claire Petit", "auditor")
    answer = auditor.get(f"/courrier/{record}/message.eml")
    assert answer.status_code == 200
    assert answer.content == runtime.blobs.get(arrival.sha256)
    assert answer.content.startswith(b"Message-ID: <r1@acme.example>\r\n")
    assert answer.headers["content-type"] == "message/rfc822"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    for wrong in ("0" * 32, "pas-un-message", record.upper()):
        missing = auditor.get(f"/courrier/{wrong}/message.eml")
        assert missing.status_code == 404
        assert "Page introuvable." in missing.text
    auditor.close()


def test_hostile_messages_read_from_the_mailbox_show_as_plain_text_without_a_500(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    scripted = (b"Message-ID: <h1@acme.example>\r\nFrom: jean.dupont@acme.example\r\n"
                b"In-Reply-To: <relance.1@creancier.example>\r\n"
                b"Subject: Paiement\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                b"<html><head><script>alert('tete')</script></head><body><p onclick=\"vol()\">"
                b"Paiement <b>demain</b>.</p><img src=\"http://127.0.0.1:9/p.png\"></body></html>")
    broken = (b"Message-ID: <b1@ailleurs.example>\r\nFrom: =?utf-8?b?broken\r\n"
              b"Subject: =?x-unknown?q?caf=E9?=\r\nContent-Type: multipart/mixed; boundary=x"
              b"\r\n\r\n--x\r\nContent-Type: text/plain; charset=unknown-8bit\r\n\r\n"
              b"\xff\xfe r\xe9ponse <script>x()</script>\r\n--x")
    huge = (b"Message-ID: <g1@ailleurs.example>\r\nFrom: inconnu@ailleurs.example\r\n"
            b"Subject: Pieces\r\n\r\n")
    assert take_in(runtime, scripted).outcome == "recorded"
    assert take_in(runtime, broken).outcome == "unattached"
    assert take_in(runtime, huge, size=31 * 1024 * 1024).outcome == "unattached"
    runtime.refresh_views()
    agent = _person(server, "amelie.martin", "Amélie Martin", "agent")
    for path in ("/courrier", "/journee", "/dossiers/ML-ACME-1", "/debiteurs/411ACME"):
        page = agent.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text
        assert "onclick=\"vol" not in page.text
        assert "127.0.0.1:9" not in page.text
    assert "Paiement demain." in _words(agent.get("/dossiers/ML-ACME-1").text)
    courrier = _words(agent.get("/courrier").text)
    assert "Message lu en partie (31 Mo : seuls ses en-têtes ont été lus)" in courrier
    agent.close()


def test_an_auditor_reads_courrier_but_cannot_act_on_it(server):
    runtime = server.app.state.runtime
    _seed(runtime)
    stray = _receive(runtime, "<x1@ailleurs.example>", Destination(),
                     sender="paul@ailleurs.example", sender_name="Paul", subject="Facture ?")
    _receive(runtime, "<dsn1@mx.acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                           "thread"),
             kind=BOUNCE, sender="mailer-daemon@mx.acme.example", sender_name="",
             subject="Undelivered Mail", text="", failed_recipient="jean.dupont@acme.example",
             diagnostic="550 5.1.1 user unknown")
    record = runtime.reads.incoming_one(stray.key)["id"]
    auditor = _person(server, "claire.petit", "Claire Petit", "auditor")
    page = auditor.get("/courrier")
    assert page.status_code == 200
    assert "Facture ?" in page.text
    assert "jean.dupont@acme.example" in page.text
    for action in ("/rattacher", "/ecarter", "/courrier/adresse-corrigee"):
        assert action not in page.text                        # no form posts there
    assert 'href="/courrier"' in page.text                   # in the navigation
    csrf = hidden(page.text)
    for path, data in ((f"/courrier/{record}/rattacher", {"debiteur": ACME.account}),
                       (f"/courrier/{record}/ecarter", {"motif": "publicité"}),
                       ("/courrier/adresse-corrigee", {"compte": ACME.account,
                                                       "adresse": "jean.dupont@acme.example"})):
        refused = auditor.post(path, data={"csrf": csrf, **data})
        assert refused.status_code == 403
        assert "pas permise avec votre rôle" in _plain(refused.text)
    assert runtime.reads.incoming_one(stray.key)["state"] == "unattached"
    assert len(runtime.reads.failing_addresses()) == 1
    anonymous = httpx.get(f"{server.url}/courrier", follow_redirects=False)
    assert anonymous.status_code == 303
    assert "/connexion" in anonymous.headers["location"]
    auditor.close()


def test_an_agent_handles_a_promise_by_e_mail_in_the_browser(server, browser):
    runtime = server.app.state.runtime
    _seed(runtime)
    _receive(runtime, "<r1@acme.example>", Destination(ACME.account, ("ML-ACME-1",),
                                                      "thread"))
    _receive(runtime, "<x1@ailleurs.example>", Destination(),
             sender="paul.martin@filiale-acme.example", sender_name="Paul Martin",
             subject="Votre facture de septembre",
             text="Bonjour,\npouvez-vous nous renvoyer la facture ?\nMerci.",
             problems=("pièce jointe de 31 Mo, non gardée",))
    runtime.accounts.add("amelie.martin", "Amélie Martin", "agent", PASSWORD)
    runtime.accounts.add("sophie.durand", "Sophie Durand", "supervisor", PASSWORD)
    runtime.files.register_invoice("import", **register_kwargs(
        "ML-DELTA-1", debtor=Debtor("411DELTA", "Delta Bois"), amount=eur("900.00")))
    version = _reply_version(runtime, "ML-ACME-1")
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_log_in(page, server.url, "sophie.durand")
    page.goto(f"{server.url}/courrier")
    assert "Courrier" in page.locator("#nav-courrier").inner_text()
    page.screenshot(path=str(SHOTS / "courrier-1366.png"), full_page=True)
    page.close()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_log_in(page, server.url, "amelie.martin")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/journee")
    assert "Jean Dupont" in page.locator("#reponses").inner_text()
    page.screenshot(path=str(SHOTS / "journee-reponse-1366.png"), full_page=True)
    page.click(f"#reponses a[href$='#reponse-{version}']")
    page.wait_for_url(f"**/dossiers/ML-ACME-1#reponse-{version}")
    card = page.locator(f"#reponse-{version}")
    assert "Le virement part vendredi." in card.inner_text()
    page.screenshot(path=str(SHOTS / "dossier-reponse-1366.png"), full_page=True)
    card.locator("select[name=outcome]").select_option("promise")
    card.locator("input[name=details]").fill("virement vendredi")
    card.locator("button[type=submit]").click()
    page.wait_for_url("**/dossiers/ML-ACME-1?apres=*&fait=reponse&suite=appel#appel")
    said = page.locator("#fait").inner_text()
    assert "Réponse traitée." in said
    assert "Noter un appel" in said
    assert page.locator("#reponses").count() == 0
    assert page.locator("#contact_name").input_value() == "Jean Dupont"  # the writer
    last = runtime.files.history("ML-ACME-1")[-1]
    assert (last.kind, last.data["outcome"], last.data["details"]) == (
        "ReplyHandled", "promise", "virement vendredi")
    page.close()
