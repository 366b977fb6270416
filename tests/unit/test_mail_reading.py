"""What relance reads in a message that comes back: who, about what, which kind, the
writer's own words, and for a bounce which address failed. Hostile input never raises."""

from __future__ import annotations

import hashlib
import http.server
import threading
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.infra.mail_reading import read_message, reply_address, reply_token
from tests.builders import free_port

MAIL = Path(__file__).parent.parent / "fixtures" / "mail"


def sample(name: str):
    return read_message((MAIL / name).read_bytes())


def test_a_french_gmail_reply_keeps_its_own_words_and_drops_the_quoted_reminder():
    reply = sample("reply_gmail_fr.eml")
    assert reply.kind == "reply"
    assert reply.text == (
        "Bonjour,\n\nNous avons bien reçu votre relance. Le règlement de la facture "
        "FA-2026-0001\n(1 200,00 €) est parti par virement ce matin ; vous devriez le voir "
        "d'ici\njeudi.\n\nBien à vous,\nJérôme Dûpont\nService comptabilité — ACME SARL")
    assert reply.sender == "jerome.dupont@acme.example"
    assert reply.sender_name == "Jérôme Dûpont"
    assert reply.subject == "Re: Relance facture FA-2026-0001 [réf. r0123456789ab]"
    assert reply.message_id == "<CAF3xq9Jr5=reply1@mail.gmail.com>"
    assert reply.in_reply_to == ("<177.relance.1@cabinet.example>",)
    assert reply.references == ("<176.relance.0@cabinet.example>",
                                "<177.relance.1@cabinet.example>")
    assert reply.recipients == ("relance+r0123456789ab@cabinet.example", "compta@acme.example")
    assert reply.reply_tokens == ("r0123456789ab",)
    assert reply.sent_at == datetime(2026, 12, 2, 8, 41, 7, tzinfo=UTC)
    assert reply.problems == ()
    assert not reply.truncated


def test_an_outlook_reply_in_latin_1_loses_its_de_envoye_block_but_not_its_accents():
    reply = sample("reply_outlook_fr_latin1.eml")
    assert reply.kind == "reply"
    assert reply.text == ("Bonjour,\n\nJe conteste le montant : la remise de 10 % n'a pas "
                          "été déduite. Merci de\nm'envoyer un avoir.\n\nHélène Garçon")
    assert reply.sender_name == "Hélène Garçon"
    assert reply.subject == "RE : Relance facture FA-2026-0002"


def test_a_windows_1252_base64_reply_keeps_its_euro_sign_and_drops_the_original_message():
    reply = sample("reply_windows1252_base64.eml")
    assert reply.text.startswith("Bonjour,\n\nNous réglerons les 350 € restants le 15 décembre")
    assert reply.text.endswith("Cordialement,\nFrançois Œuvray")
    assert "Message d'origine" not in reply.text
    assert reply.sender_name == "François Œuvray"
    assert reply.reply_tokens == ("r0000000000ff",)


def test_an_english_reply_drops_the_on_wrote_history():
    reply = sample("reply_en.eml")
    assert reply.text == ("Hello,\n\nWe paid the invoice FA-2026-0004 on November 28th; "
                          "please check again.\n\nBest regards,\nJohn Smith")
    assert reply.sent_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)


HISTORY = "> Madame, Monsieur,\n> la facture FA-2026-0001 reste impayée.\n"


@pytest.mark.parametrize("header", [
    "Le lun. 1 déc. 2026 à 10:12, Cabinet Martin <relance@cabinet.example> a écrit :",
    "Le lun. 1 déc. 2026 à 10:12, Cabinet Martin <relance@cabinet.example> a écrit\u00a0:",
    "Le lun. 1 déc. 2026 à 10:12, Cabinet Martin <relance@cabinet.example> a\nécrit :",
    "Le 01/12/2026 à 10:12, Cabinet Martin a écrit :",
    "On Mon, Dec 1, 2026 at 10:12 AM Cabinet Martin <relance@cabinet.example> wrote:",
    "De : Cabinet Martin <relance@cabinet.example>\nEnvoyé : lundi 1 décembre 2026 10:12\n"
    "À : Jean Dupont\nObjet : Relance facture FA-2026-0001\n",
    "De: Cabinet Martin <relance@cabinet.example>\nDate: 1 décembre 2026 à 10:12:00 UTC+1\n"
    "À: Jean Dupont\nObjet: Relance facture FA-2026-0001\n",
    "From: Cabinet Martin <relance@cabinet.example>\nSent: Monday, December 1, 2026 10:12\n"
    "To: John Smith\nSubject: Reminder\n",
    "-----Original Message-----",
    "-----Message d'origine-----",
], ids=["gmail", "gmail-nbsp", "gmail-wrapped", "thunderbird", "english", "outlook",
        "apple", "outlook-en", "original-message", "message-d-origine"])
def test_the_quoted_history_is_cut_whatever_client_quoted_it(header):
    raw = (f"From: jean@acme.example\nSubject: Re: Relance\nContent-Type: text/plain; "
           f"charset=utf-8\n\nLe virement part à 10h30, promis.\n\nJean\n\n{header}\n"
           f"{HISTORY}").encode()
    assert read_message(raw).text == "Le virement part à 10h30, promis.\n\nJean"


def test_a_sentence_that_merely_looks_like_a_quote_header_is_kept():
    text = "Bonjour,\nOn vous a écrit :\n- la facture est payée ;\n- l'avoir est reçu.\n"
    raw = f"From: jean@acme.example\nContent-Type: text/plain; charset=utf-8\n\n{text}"
    assert read_message(raw.encode()).text == text.strip()


def test_an_answer_written_below_the_quote_is_kept():
    raw = ("From: jean@acme.example\nContent-Type: text/plain; charset=utf-8\n\n"
           f"Le 01/12/2026 à 10:12, Cabinet Martin a écrit :\n{HISTORY}\nC'est réglé.\n").encode()
    assert read_message(raw).text == "C'est réglé."


@pytest.mark.parametrize("name", ["auto_reply_fr.eml", "auto_reply_outlook_absence.eml"])
def test_an_out_of_office_is_an_automatic_answer(name):
    answer = sample(name)
    assert answer.kind == "auto_reply"
    assert "jusqu'au" in answer.text


@pytest.mark.parametrize(("header", "kind"), [
    ("Auto-Submitted: auto-replied", "auto_reply"),
    ("Auto-Submitted: auto-generated", "auto_reply"),
    ("Auto-Submitted: no", "reply"),
    ("X-Autoreply: yes", "auto_reply"),
    ("X-Autorespond: Vacation", "auto_reply"),
    ("Precedence: bulk", "auto_reply"),
    ("Precedence: junk", "auto_reply"),
    ("Precedence: auto_reply", "auto_reply"),
    ("X-Auto-Response-Suppress: All", "reply"),
])
def test_automatic_answers_are_told_by_their_headers(header, kind):
    raw = f"From: a@acme.example\n{header}\nSubject: Re: Relance\n\nBonjour\n".encode()
    assert read_message(raw).kind == kind


@pytest.mark.parametrize(("subject", "kind"), [
    ("Réponse automatique : Relance facture", "auto_reply"),
    ("Absence du bureau : Relance", "auto_reply"),
    ("Absent jusqu'au 8 décembre", "auto_reply"),
    ("Out of Office: Reminder", "auto_reply"),
    ("Automatic reply: Reminder", "auto_reply"),
    ("Autoreply: Reminder", "auto_reply"),
    ("Re: Relance facture FA-2026-0001", "reply"),
    ("Re: absence de paiement", "reply"),
])
def test_automatic_answers_are_told_by_their_subjects(subject, kind):
    raw = f"From: a@acme.example\nSubject: {subject}\n\nBonjour\n".encode()
    assert read_message(raw).kind == kind


def test_an_outlook_absence_subject_counts_only_with_its_suppress_header():
    raw = b"From: a@acme.example\nSubject: RE: En conges\n\nBonjour\n"
    assert read_message(raw).kind == "reply"
    assert read_message(b"X-Auto-Response-Suppress: All\n" + raw).kind == "auto_reply"


def test_a_postfix_delivery_report_names_the_failed_address_the_reason_and_the_sent_message():
    bounce = sample("dsn_postfix_failed.eml")
    assert bounce.kind == "bounce"
    assert bounce.failed_recipients == ("jean.dupont@acme.example",)
    assert bounce.diagnostic == ("550 5.1.1 <jean.dupont@acme.example>: Recipient address "
                                 "rejected: User unknown in virtual mailbox table")
    assert bounce.bounced_message_id == "<177.relance.1@cabinet.example>"
    assert bounce.reply_tokens == ("r0123456789ab",)  # from the returned message
    assert bounce.attachments == ()


def test_a_delayed_delivery_report_is_recorded_as_an_automatic_answer_not_a_bounce():
    notice = sample("dsn_delayed.eml")
    assert notice.kind == "auto_reply"
    assert notice.failed_recipients == ()
    assert notice.diagnostic.startswith("4.4.1 ")
    assert notice.bounced_message_id == "<178.relance.2@cabinet.example>"


def test_a_bounce_written_in_prose_still_names_the_failed_address():
    bounce = sample("bounce_exim_prose.eml")
    assert bounce.kind == "bounce"
    assert bounce.failed_recipients == ("compta@initech.example",)
    assert "550 5.1.1" in bounce.diagnostic
    assert bounce.bounced_message_id == "<179.relance.3@cabinet.example>"


@pytest.mark.parametrize(("subject", "text", "kind"), [
    ("Delivery Status Notification (Failure)", "550 5.2.1 The email account does not exist",
     "bounce"),
    ("Non remis : Relance facture", "Remote Server returned '550 5.1.10 RESOLVER.ADR'",
     "bounce"),
    ("Delivery Status Notification (Delay)", "Status 4.4.7, will retry", "auto_reply"),
])
def test_common_bounces_without_a_report_are_told_from_delays(subject, text, kind):
    raw = (f"From: postmaster@mx.example\nSubject: {subject}\n\n{text}\n").encode()
    assert read_message(raw).kind == kind


def test_an_html_only_message_gives_its_text_without_scripts_styles_or_remote_content():
    reply = sample("html_only_script.eml")
    assert reply.text == ("Bonjour,\n\nLe paiement de 750,00 € sera fait le 10 décembre.\n\n"
                          "Voir l'échéancier\n\nFacture FA-2026-0005")
    for hidden in ("SECRET", "document", "stealCookies", "alert", "tracker", "http", "color"):
        assert hidden not in reply.text


def test_reading_html_fetches_nothing_it_names():
    requested = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", free_port()), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    html = (f'<!DOCTYPE html SYSTEM "{base}/dtd"><html><head>'
            f'<link rel="stylesheet" href="{base}/a.css"><script src="{base}/a.js"></script>'
            f'<style>@import "{base}/b.css";</style></head><body background="{base}/bg.png">'
            f'<p>Payé.</p><img src="{base}/p.png"><iframe src="{base}/f"></iframe>'
            f'<object data="{base}/o"></object></body></html>')
    try:
        raw = f"From: a@acme.example\nContent-Type: text/html; charset=utf-8\n\n{html}"
        assert read_message(raw.encode()).text == "Payé."
        urllib.request.urlopen(f"{base}/after", timeout=5).close()  # the server does answer
    finally:
        server.shutdown()
        server.server_close()
    assert requested == ["/after"]


def test_a_malformed_message_is_read_as_far_as_possible_and_its_problems_said():
    broken = sample("malformed_mime.eml")
    assert broken.kind == "reply"
    assert broken.text == "Hello world"
    assert broken.sender == ""
    assert broken.sent_at is None
    assert broken.subject.startswith("tlhIngan Hol")
    (pdf,) = broken.attachments
    assert pdf.filename == "passwd"
    assert pdf.content.startswith(b"%PDF")
    problems = " | ".join(broken.problems)
    for said in ("close boundary", "From address", "x-klingon", "Date"):
        assert said in problems


def test_attachments_come_as_bytes_with_names_safe_to_show():
    message = EmailMessage()
    message["From"] = "jean@acme.example"
    message["Subject"] = "Re: Relance"
    message.set_content("Voici le justificatif de virement.")
    message.add_attachment(b"%PDF-1.7 virement", maintype="application", subtype="pdf",
                           filename="../../Relevé\u202e fdp.exe\x07.pdf")
    message.add_attachment(b"\x89PNG capture", maintype="image", subtype="png")
    reply = read_message(bytes(message))
    assert reply.text == "Voici le justificatif de virement."
    assert [(a.filename, a.media_type, a.content) for a in reply.attachments] == [
        ("Relevé fdp.exe.pdf", "application/pdf", b"%PDF-1.7 virement"),
        ("pièce-jointe-2.png", "image/png", b"\x89PNG capture"),
    ]


def test_a_long_text_is_cut_and_said_so():
    raw = b"From: a@acme.example\n\n" + b"Paiement en cours. " * 2000
    reply = read_message(raw, max_text_chars=100)
    assert len(reply.text) == 100
    assert reply.truncated


def test_the_header_of_an_oversized_message_is_read_as_such():
    header = (MAIL / "reply_gmail_fr.eml").read_bytes().split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    reply = read_message(header, oversized_size=30_000_000)
    assert reply.truncated
    assert reply.raw_size == 30_000_000
    assert reply.sha256 == hashlib.sha256(header).hexdigest()
    assert reply.subject == "Re: Relance facture FA-2026-0001 [réf. r0123456789ab]"
    assert reply.in_reply_to == ("<177.relance.1@cabinet.example>",)
    assert reply.text == ""
    assert "message of 30000000 bytes: only its header was read" in reply.problems


def test_charsets_are_read_as_senders_mean_them():
    latin1_euro = "Content-Type: text/plain; charset=iso-8859-1\n\n350 \x80 réglés".encode(
        "latin-1")
    undeclared_utf8 = "Content-Type: text/plain\n\n350 € réglés".encode()
    undeclared_1252 = "Content-Type: text/plain\n\n350 € réglés".encode("cp1252")
    for raw in (latin1_euro, undeclared_utf8, undeclared_1252):
        assert read_message(raw).text == "350 € réglés"


def test_tokens_are_found_in_plus_addresses_and_in_subjects():
    raw = (b"To: Relance <relance+R0123456789AB@cabinet.example>, other+r123@x.example\n"
           b"Cc: relance+rfedcba987654@cabinet.example\n"
           b"Subject: =?utf-8?q?Re=3A_=5BR=C3=89F=2E_rabcdefabcdef=5D_=5Bref_r111111111111=5D"
           b"_=5Bref_r12=5D?=\n\nOui\n")
    assert read_message(raw).reply_tokens == (
        "r0123456789ab", "rfedcba987654", "rabcdefabcdef", "r111111111111")


def test_a_sent_message_token_comes_back_through_its_reply_address():
    message_id = "<177.relance.1@cabinet.example>"
    token = reply_token(message_id)
    assert token == "r" + hashlib.sha256(message_id.encode()).hexdigest()[:12]
    address = reply_address("relance@cabinet.example", message_id)
    assert address == f"relance+{token}@cabinet.example"
    raw = f"From: jean@acme.example\nTo: Cabinet Martin <{address}>\n\nBien reçu\n".encode()
    assert read_message(raw).reply_tokens == (token,)


def test_hostile_sizes_and_depths_are_capped_and_said():
    huge_header = b"To: " + b"((((" * 100_000 + b"\nSubject: " + b"=?x?q?a?= " * 50_000
    deep = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n)
                    for n in range(3000))
    wide = b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"--b\n\nx\n" * 5000
    for raw, said in ((huge_header + b"\n\nBonjour\n", "cut to"), (deep, "MIME structure"),
                      (deep[:50 * 60], "nested"), (wide, "MIME parts")):
        assert said in " | ".join(read_message(raw).problems)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw):
    read_message(raw)


SAMPLES = sorted(path.read_bytes() for path in MAIL.glob("*.eml"))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 5000), st.binary(
    min_size=1, max_size=40)), max_size=8))
def test_damaged_samples_never_raise(raw, damages):
    for position, garbage in damages:
        raw = raw[:position] + garbage + raw[position + len(garbage):]
    read_message(raw)
