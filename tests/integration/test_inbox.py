"""Answers are read from a real mailbox: a Dovecot IMAP server on loopback, or a Maildir.
Nothing is marked until the caller says it recorded the messages."""

from __future__ import annotations

import mailbox
import socket

import pytest

from adapters.infra.inbox import HEADER_BYTES, InboxUnavailable, fetch_all_raw, inbox_from_url
from adapters.infra.mail_reading import read_message
from tests.builders import free_port
from tests.mailserver import AGENT

pytest_plugins = ["tests.mail_fixtures"]


def message(number: int, body: str = "Bonjour, c'est réglé.") -> bytes:
    return (f"From: Jean Dupont <jean@acme.example>\r\nTo: relance@cabinet.example\r\n"
            f"Subject: Re: Relance {number}\r\nMessage-ID: <{number}@acme.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def huge_message(megabytes: int) -> bytes:
    line = b"JVBERi0xLjcKJeLjz9MKMSAwIG9iago8PC9UeXBlL0NhdGFsb2cvUGFnZXMgMiAwIFI+PgplbmRvYmoK\r\n"
    header = (b"From: Jean Dupont <jean@acme.example>\r\nSubject: Re: Relance, le grand livre\r\n"
              b"Message-ID: <huge@acme.example>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: application/pdf; name=grand-livre.pdf\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n")
    return header + line * (megabytes * 1024 * 1024 // len(line))


def subjects(fetched) -> list[str]:
    return [read_message(f.raw, oversized_size=f.size if f.oversized else None).subject
            for f in fetched]


def test_unseen_messages_come_unmarked_until_the_caller_is_done_with_them(dovecot):
    dovecot.append(message(1))
    dovecot.append(message(2), flags=r"\Seen")
    dovecot.append(message(3))
    inbox = inbox_from_url(dovecot.url)

    fetched = inbox.fetch()
    assert subjects(fetched) == ["Re: Relance 1", "Re: Relance 3"]
    assert [f.raw for f in fetched] == [message(1), message(3)]
    assert all(f.size == len(f.raw) and not f.oversized for f in fetched)
    assert inbox.fetch() == fetched  # fetching marks nothing
    assert ["Seen" in flags for flags in dovecot.flags()] == [False, True, False]

    inbox.done([f.key for f in fetched])
    assert ["Seen" in flags for flags in dovecot.flags()] == [True, True, True]
    assert inbox.fetch() == []
    dovecot.append(message(4))
    assert subjects(inbox.fetch()) == ["Re: Relance 4"]


def test_keys_stay_the_same_between_two_fetches_and_the_oldest_come_first(dovecot):
    for number in range(1, 6):
        dovecot.append(message(number))
    inbox = inbox_from_url(dovecot.url)
    first = inbox.fetch(limit=2)
    assert subjects(first) == ["Re: Relance 1", "Re: Relance 2"]
    inbox.done([first[0].key])
    again = inbox.fetch(limit=2)
    assert subjects(again) == ["Re: Relance 2", "Re: Relance 3"]
    assert again[0].key == first[1].key


def test_an_oversized_message_comes_as_its_header_alone_and_the_others_whole(dovecot):
    huge = huge_message(30)
    dovecot.append(message(1))
    dovecot.append(huge)
    dovecot.append(message(3))

    fetched = inbox_from_url(dovecot.url).fetch()
    assert [f.oversized for f in fetched] == [False, True, False]
    big = fetched[1]
    assert big.size >= 30 * 1024 * 1024
    assert len(big.raw) < 1024 <= HEADER_BYTES
    assert huge.startswith(big.raw)
    assert big.raw.endswith(b"\r\n\r\n")
    reading = read_message(big.raw, oversized_size=big.size)
    assert reading.subject == "Re: Relance, le grand livre"
    assert reading.truncated
    assert reading.raw_size == big.size
    assert subjects(fetched) == ["Re: Relance 1", "Re: Relance, le grand livre", "Re: Relance 3"]


def test_the_size_limit_can_be_set_in_the_url(dovecot):
    long = message(1, body="Bonjour. " * 1000)
    dovecot.append(long)
    (fetched,) = inbox_from_url(dovecot.url + "?max_bytes=1000").fetch()
    assert fetched.oversized
    assert fetched.raw == long.split(b"\r\n\r\n")[0] + b"\r\n\r\n"


def test_a_wrong_password_is_inbox_unavailable_and_the_password_is_never_shown(dovecot):
    wrong = "faux-M0t de passe"
    with pytest.raises(InboxUnavailable, match="AUTHENTICATIONFAILED") as refused:
        inbox_from_url(dovecot.url_for(dovecot.user, wrong)).fetch()
    assert wrong not in str(refused.value)
    assert dovecot.password not in str(refused.value)


def test_an_ascii_password_logs_in_as_well(dovecot):
    user, password = AGENT
    inbox = inbox_from_url(dovecot.url_for(user, password))
    assert inbox.fetch() == []


def test_a_server_that_is_down_is_inbox_unavailable():
    url = f"imap://relance:secret@127.0.0.1:{free_port()}/INBOX?timeout=5"
    with pytest.raises(InboxUnavailable, match="ConnectionRefusedError") as down:
        inbox_from_url(url).fetch()
    assert "secret" not in str(down.value)


def test_a_server_that_never_answers_is_inbox_unavailable_after_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"imap://relance:secret@127.0.0.1:{silent.getsockname()[1]}/INBOX?timeout=1"
        with pytest.raises(InboxUnavailable, match="TimeoutError"):
            inbox_from_url(url).fetch()


@pytest.mark.parametrize(("scheme", "query"), [("imap", "?starttls=1"), ("imaps", "")])
def test_tls_asked_of_a_server_without_it_is_refused_rather_than_skipped(dovecot, scheme,
                                                                        query):
    url = dovecot.url.replace("imap://", f"{scheme}://", 1) + query
    with pytest.raises(InboxUnavailable) as refused:
        inbox_from_url(url).fetch()
    assert dovecot.password not in str(refused.value)


def test_a_missing_folder_is_inbox_unavailable(dovecot):
    url = dovecot.url_for(dovecot.user, dovecot.password, folder="Nulle part")
    with pytest.raises(InboxUnavailable, match="Nulle part"):
        inbox_from_url(url).fetch()


def test_a_folder_named_in_french_is_read(dovecot):
    client = dovecot.client()
    client.create('"R&AOk-ponses re&AOc-ues"')
    client.logout()
    try:
        dovecot.append(message(1), folder='"R&AOk-ponses re&AOc-ues"')
        url = dovecot.url_for(dovecot.user, dovecot.password, folder="Réponses reçues")
        assert subjects(inbox_from_url(url).fetch()) == ["Re: Relance 1"]
    finally:
        client = dovecot.client()
        client.delete('"R&AOk-ponses re&AOc-ues"')
        client.logout()


def test_keys_from_before_the_folder_was_renumbered_mark_nothing(dovecot):
    client = dovecot.client()
    client.create("Recreated")
    client.logout()
    url = dovecot.url_for(dovecot.user, dovecot.password, folder="Recreated")
    try:
        dovecot.append(message(1), folder="Recreated")
        old_keys = [f.key for f in inbox_from_url(url).fetch()]
        client = dovecot.client()
        client.delete("Recreated")
        client.create("Recreated")
        client.logout()
        dovecot.append(message(2), folder="Recreated")
        inbox = inbox_from_url(url)
        inbox.done(old_keys)
        assert subjects(inbox.fetch()) == ["Re: Relance 2"]
    finally:
        client = dovecot.client()
        client.delete("Recreated")
        client.logout()


def test_every_message_is_downloaded_for_the_benchmark_without_marking_any(dovecot):
    for number in range(1, 8):
        dovecot.append(message(number), flags=r"\Seen" if number % 3 == 0 else "")
    assert fetch_all_raw(dovecot.url) == 7
    assert len(inbox_from_url(dovecot.url).fetch()) == 5


# The local delivery route: a Maildir, as the standard library's mailbox module writes it.

def test_the_maildir_reader_hands_over_unseen_messages_until_they_are_done(tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    new_key = folder.add(message(1))
    read = mailbox.MaildirMessage(message(2))
    read.set_subdir("cur")
    read.add_flag("S")
    folder.add(read)
    unread = mailbox.MaildirMessage(message(3))
    unread.set_subdir("cur")
    unread.add_flag("F")
    flagged_key = folder.add(unread)
    inbox = inbox_from_url(f"maildir://{tmp_path / 'Maildir'}")

    fetched = inbox.fetch()
    assert sorted(f.key for f in fetched) == sorted([new_key, flagged_key])
    assert sorted(subjects(fetched)) == ["Re: Relance 1", "Re: Relance 3"]
    assert inbox.fetch() == fetched

    inbox.done([f.key for f in fetched])
    assert inbox.fetch() == []
    after = mailbox.Maildir(tmp_path / "Maildir", create=False)
    assert after[new_key].get_subdir() == "cur"
    assert after[new_key].get_flags() == "S"
    assert after[flagged_key].get_flags() == "FS"
    assert fetch_all_raw(f"maildir://{tmp_path / 'Maildir'}") == 3


def test_the_maildir_reader_reads_only_the_header_of_an_oversized_message(tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add(huge_message(1))
    folder.add(message(2))
    fetched = inbox_from_url(f"maildir://{tmp_path / 'Maildir'}?max_bytes=100000").fetch()
    assert sorted((f.oversized, len(f.raw) < 1024) for f in fetched) == [
        (False, True), (True, True)]
    assert sorted(subjects(fetched)) == ["Re: Relance 2", "Re: Relance, le grand livre"]


def test_a_missing_maildir_is_inbox_unavailable(tmp_path):
    with pytest.raises(InboxUnavailable, match="no readable Maildir"):
        inbox_from_url(f"maildir://{tmp_path / 'nowhere'}").fetch()


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="imap://, imaps:// or maildir://"):
        inbox_from_url("pop3://relance:secret@mail.example")
