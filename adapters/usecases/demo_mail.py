"""A morning's mail for the demo portfolio: what debtors sent back to its e-mails, read
as the mailbox reader reads it (`adapters.usecases.replies.take_in`), so that « Courrier »,
Ma journée's « Réponses à traiter » and « Adresses à corriger » show something to do.

Six messages, each built as a mail server delivers it: two replies in the thread of our
e-mails (a promise, an invoice never received), one from a colleague at the same company
without a thread, an out-of-office, a hard bounce, and a stranger's offer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from adapters.bootstrap import Runtime
from adapters.usecases.replies import take_in

QUOTE = ("\n\nLe {day}, relance <relance@creancier.example> a écrit :\n"
         "> Madame, Monsieur,\n> sauf erreur de notre part, la facture reste impayée.\n")


def seed_mail(runtime: Runtime) -> int:
    """Records the morning's mail; how many messages were recorded."""
    runtime.refresh_views()
    sent = runtime.reads.latest_sent(limit=4)
    if len(sent) < 4:
        return 0
    now = runtime.files.now()
    messages = [
        _reply(sent[0], now - timedelta(hours=3), "Bonjour,\n\nLe virement sera fait "
               "vendredi, sous la référence de la facture.\n\nCordialement"),
        _reply(sent[1], now - timedelta(hours=2), "Bonjour,\n\nNous n'avons jamais reçu "
               "cette facture : pouvez-vous nous la renvoyer, avec notre numéro de bon de "
               "commande ?\n\nMerci"),
        _colleague(sent[0], now - timedelta(hours=1, minutes=30)),
        _away(sent[2], now - timedelta(hours=1)),
        _bounce(sent[3], now - timedelta(minutes=45)),
        _stranger(now - timedelta(minutes=20)),
    ]
    recorded = sum(take_in(runtime, raw).outcome != "known" for raw in messages)
    runtime.refresh_views()
    return recorded


def _message(sender: str, subject: str, text: str, at: datetime, key: str,
             **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "relance@creancier.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<demo-courrier-{key}@courrier.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def _reply(sent: dict, at: datetime, text: str) -> bytes:
    day = f"{at - timedelta(days=2):%d/%m/%Y} à 09:00"
    return bytes(_message(sent["recipient"], "Re: Votre facture", text + QUOTE.format(day=day),
                          at, f"reponse-{sent['account']}", in_reply_to=sent["message_id"],
                          references=sent["message_id"]))


def _colleague(sent: dict, at: datetime) -> bytes:
    domain = sent["recipient"].rpartition("@")[2]
    return bytes(_message(f"Direction financière <direction@{domain}>", "Relevé de compte",
                          "Bonjour,\n\nPourriez-vous nous adresser un relevé de compte à jour ?"
                          "\n\nBien à vous", at, f"releve-{sent['account']}"))


def _away(sent: dict, at: datetime) -> bytes:
    return bytes(_message(sent["recipient"], "Réponse automatique : absent du bureau",
                          "Je suis absent jusqu'à lundi et n'aurai pas accès à mes messages.",
                          at, f"absence-{sent['account']}", in_reply_to=sent["message_id"],
                          auto_submitted="auto-replied"))


def _bounce(sent: dict, at: datetime) -> bytes:
    address = sent["recipient"]
    return (f"From: MAILER-DAEMON@mx.creancier.example (Mail Delivery System)\r\n"
            f"To: relance@creancier.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(at)}\r\nMessage-ID: <demo-courrier-dsn@courrier.example>\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: "
            "multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\nYour message could not be "
            "delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.creancier.example\r\n\r\n"
            f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: "
            "User unknown\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {sent['message_id']}\r\nTo: {address}\r\n\r\n--b--\r\n").encode()


def _stranger(at: datetime) -> bytes:
    return bytes(_message("Nadia Leroy <contact@agence-reseaux.example>",
                          "Proposition de partenariat", "Bonjour,\n\nNous accompagnons les "
                          "directions financières dans leur recouvrement…", at, "offre"))
