"""Erasing a person (RGPD art. 17) without breaking the record: their data is sealed under
their own key, the key is destroyed, every page and new export shows « donnée effacée »,
and every chain, digest and earlier export still verifies."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

from adapters.infra.keys import PostgresKeys
from domain.sealing import ERASED, subject_of
from domain.values import CallOutcome, Channel, Contact, Debtor, PaymentMeans
from projections.search import fold
from tests.builders import ACME, JEAN, eur, register_kwargs
from tests.e2e.cli_runner import relance
from tests.e2e.conftest import hidden, log_in

NUMBER = "EFF-1"
TRACES = (JEAN.name, JEAN.phone, JEAN.email)
"""What must not be readable anywhere once Jean is erased."""


def _seed(runtime) -> None:
    """A file of 40 facts naming Jean Dupont, and Jean on ACME's people list."""
    files = runtime.files
    files.register_invoice("alice", **register_kwargs(NUMBER))
    files.record_debtor_person("alice", ACME.account, name=JEAN.name, function=JEAN.function,
                               phone=JEAN.phone, email=JEAN.email)
    for i in range(20):
        files.log_call("alice", NUMBER, contact=JEAN, outcome=CallOutcome.REACHED,
                       summary=f"Appel {i + 1} : il confirme que le paiement part.")
    files.send_reminder("alice", NUMBER, channel=Channel.EMAIL, level=1,
                        recipient=JEAN.email)
    for i in range(18):
        files.add_note("alice", NUMBER, text=f"Note {i + 1} sur le dossier.")
    assert runtime.wait_for_views(files.recorder.max_notification_id())


def _stored_bytes(runtime) -> bytes:
    """Every stored fact of the file and of ACME's record, as they lie in the store."""
    files = runtime.files
    record = files.debtor_record(ACME.account)
    events = [*files.recorder.select_events(files.file(NUMBER).id),
              *files.recorder.select_events(record.id)]
    return b"\n".join(bytes(e.state) for e in events)


def test_an_erased_person_reads_donnee_effacee_everywhere_and_the_record_still_verifies(
        server, store_url, tmp_path: Path):
    runtime = server.app.state.runtime
    _seed(runtime)
    assert len(list(runtime.files.recorder.select_events(runtime.files.file(NUMBER).id))) == 40
    stored = _stored_bytes(runtime)
    for trace in TRACES:  # sealed from the first write: only their key opens them
        assert trace.encode() not in stored

    supervisor = log_in(server, "sophie", "supervisor")
    before_page = supervisor.get(f"/dossiers/{NUMBER}")
    assert JEAN.name in before_page.text

    digest = tmp_path / "avant.json"
    assert relance(store_url, "digest", "--out", str(digest)).returncode == 0
    exports = [tmp_path / "dossier.json", tmp_path / "debiteur.json", tmp_path / "tout.json"]
    for target, out in zip((NUMBER, ACME.account, "--tout"), exports, strict=True):
        made = relance(store_url, "export", target, "--out", str(out))
        assert made.returncode == 0, made.stderr
    earlier = json.loads(exports[0].read_text(encoding="utf-8"))
    shown = [f for f in earlier["files"][0]["facts"] if f.get("people")]
    assert len(shown) == 40  # who was reached on each call, what each call and note says
    assert JEAN.name in json.dumps(shown, ensure_ascii=False)

    subject = subject_of(ACME.account, JEAN.name)
    key = runtime.files.sealer.keys.key(subject, create=False)
    assert key is not None

    refused = relance(store_url, "personne", "effacer", "--debiteur", ACME.account,
                      "--nom", "Personne Inconnue", "--motif", "demande", "--oui")
    assert refused.returncode == 2
    assert "personne n'est connu sous « Personne Inconnue »" in refused.stderr
    erased = relance(store_url, "personne", "effacer", "--debiteur", ACME.account,
                     "--nom", "jean  DUPONT", "--motif", "demande de l'intéressé du 2/12",
                     "--oui")
    assert erased.returncode == 0, erased.stderr
    assert "Effacé chez le débiteur 411ACME : « jean  DUPONT » (clé détruite)" in erased.stderr

    # The key is gone: from the table, and from the bytes of the SQLite file and its log;
    # the server forgot it too once its read models took in the erasure.
    assert runtime.wait_for_views(runtime.files.recorder.max_notification_id())
    assert runtime.files.sealer.keys.key(subject, create=False) is None
    assert fold.cache_info().currsize == 0  # nor any name it kept to search with
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        for part in (path, path.with_name(path.name + "-wal")):
            if part.exists():
                assert key not in part.read_bytes(), part
    else:
        assert isinstance(runtime.files.sealer.keys, PostgresKeys)

    # The chain, the earlier digest and every earlier export still verify.
    checked = relance(store_url, "verify", "--digest", str(digest))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for out in exports:
        offline = relance(store_url, "verify", str(out))
        assert offline.returncode == 0, offline.stdout + offline.stderr

    # An earlier export whose person was changed no longer verifies.
    forged = json.loads(exports[0].read_text(encoding="utf-8"))
    fact = next(f for f in forged["files"][0]["facts"] if f.get("people"))
    for opened in fact["people"].values():
        opened["name"] = "Paul Durand"
    (tmp_path / "forged.json").write_text(json.dumps(forged, ensure_ascii=False),
                                          encoding="utf-8")
    caught = relance(store_url, "verify", str(tmp_path / "forged.json"))
    assert caught.returncode != 0
    assert "une personne qu'elle montre ne correspond pas à ses données scellées" in \
        caught.stderr

    # A new export and every page show the erasure, never Jean.
    after = tmp_path / "apres.json"
    assert relance(store_url, "export", ACME.account, "--out", str(after)).returncode == 0
    assert relance(store_url, "verify", str(after)).returncode == 0
    text = after.read_text(encoding="utf-8")
    assert ERASED in text
    pages = [supervisor.get(f"/dossiers/{NUMBER}"), supervisor.get(f"/debiteurs/{ACME.account}"),
             supervisor.get("/recherche", params={"q": "Dupont"})]
    for page in pages:
        assert page.status_code == 200, page.url
    assert ERASED in pages[0].text
    assert ERASED in pages[1].text
    call_form = re.search(r'<input[^>]*id="contact_name"[^>]*>', pages[0].text).group(0)
    assert ERASED not in call_form  # nobody to ask for: the agent types whom they reach
    for trace in TRACES:
        assert trace not in text
        for page in pages:
            assert trace not in page.text, (trace, page.url)

    # The erasure is a fact of the debtor's record: who, why, which subject, never what.
    record = runtime.files.debtor_record(ACME.account)
    assert record.erased[subject][2] == "demande de l'intéressé du 2/12"
    assert all(person.name != JEAN.name for person in record.people.values())


def test_a_supervisor_confirms_the_erasures_due_and_erases_on_request(server, agent):
    runtime = server.app.state.runtime
    files = runtime.files
    marie = Contact(name="Marie Dupuis", phone="06 11 22 33 44")
    consumer = Debtor(account="411DUPUIS", name="Marie Dupuis", is_consumer=True)
    files.register_invoice("alice", **register_kwargs(
        "RET-1", debtor=consumer, billing_recipient=marie, amount=eur("80.00"),
        issued_on=date(2023, 1, 2), due_on=date(2023, 2, 1)))
    files.add_note("alice", "RET-1", text="Mme Dupuis paiera à réception de son salaire.")
    files.receive_payment("alice", "RET-1", amount=eur("80.00"), received_on=date(2023, 3, 1),
                          means=PaymentMeans.CARD)
    files.register_invoice("alice", **register_kwargs("RET-2"))  # Jean, ACME, still due
    assert runtime.wait_for_views(files.recorder.max_notification_id())

    stored = b"".join(bytes(e.state) for e in files.recorder.select_events(
        files.file("RET-1").id))
    assert marie.name.encode() not in stored  # her name as debtor is sealed too
    assert b"salaire" not in stored  # and what the team wrote of her
    assert "paiera à réception de son salaire" in supervisor_view(server, "RET-1")
    assert b"411DUPUIS" in stored  # the account stays in clear

    assert agent.get("/reglages/effacements").status_code == 403
    supervisor = log_in(server, "sophie", "supervisor")
    page = supervisor.get("/reglages/effacements")
    assert page.status_code == 200
    assert "Marie Dupuis (411DUPUIS, particulier)" in page.text
    assert "<td>Marie Dupuis</td>" in page.text  # herself: her name, sealed as a consumer's
    assert "01/03/2023" in page.text  # the day its last file ended
    assert JEAN.name not in page.text
    csrf = hidden(page.text)

    done = supervisor.post("/reglages/effacements", data={"csrf": csrf, "account": "411DUPUIS"})
    assert done.status_code == 303
    after = supervisor.get(done.headers["location"])
    assert "1 personne effacée chez le débiteur 411DUPUIS." in after.text
    assert "Personne n'est à effacer aujourd'hui." in html.unescape(after.text)
    assert runtime.wait_for_views(files.recorder.max_notification_id())
    file_page = supervisor.get("/dossiers/RET-1")
    assert ERASED in file_page.text
    for trace in (marie.name, marie.phone, "salaire"):  # her data, her name, the note
        assert trace not in file_page.text

    unknown = supervisor.post("/reglages/effacements", data={
        "csrf": csrf, "account": ACME.account, "who": "Paul Inconnu", "reason": "demande"})
    assert unknown.status_code == 422
    assert "Personne n'est connu sous « Paul Inconnu » chez le débiteur 411ACME." in \
        html.unescape(unknown.text)
    no_reason = supervisor.post("/reglages/effacements", data={
        "csrf": csrf, "account": ACME.account, "who": JEAN.name})
    assert no_reason.status_code == 422
    assert "Dites pourquoi la personne est effacée." in no_reason.text
    on_request = supervisor.post("/reglages/effacements", data={
        "csrf": csrf, "account": ACME.account, "who": JEAN.name,
        "reason": "Demande reçue le 2 décembre"})
    assert on_request.status_code == 303
    assert runtime.wait_for_views(files.recorder.max_notification_id())
    assert JEAN.name not in supervisor.get("/dossiers/RET-2").text


def supervisor_view(server, number: str) -> str:
    """A file's page as a supervisor reads it."""
    return log_in(server, "lecteur", "supervisor").get(f"/dossiers/{number}").text
