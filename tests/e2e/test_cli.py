"""The `relance` command as a person types it, on each store."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cli_runner import RELANCE, relance
from tests.integration.raw_events import RawEvents

REGISTER = ["invoice", "register", "--number", "FA-2026-0042", "--debtor-account", "411DUP",
            "--debtor-name", "Dupuis & Fils", "--siren", "732829320", "--amount", "1 500,00",
            "--issued", "01/10/2026", "--due", "31/10/2026", "--po", "BC-12"]


def test_init_register_and_show_a_file(store_url):
    init = relance(store_url, "db", "init")
    assert init.returncode == 0, init.stderr
    assert "Base prête" in init.stdout

    registered = relance(store_url, *REGISTER)
    assert registered.returncode == 0, registered.stderr
    assert "Dossier ouvert pour la facture FA-2026-0042" in registered.stdout

    shown = relance(store_url, "case", "show", "FA-2026-0042", "--today", "2026-11-20")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.replace("\u202f", " ").replace("\xa0", " ")
    assert "Dupuis & Fils" in text
    assert "1 500,00 €" in text
    assert "Facture enregistrée" in text
    assert "marie.curie" in text
    assert "statut : Échu" in text


def test_registering_twice_is_refused_in_french_with_exit_code_1(store_url):
    assert relance(store_url, *REGISTER).returncode == 0
    again = relance(store_url, *REGISTER)
    assert again.returncode == 1
    assert "Cette facture a déjà un dossier." in again.stderr
    assert "Traceback" not in again.stderr


def test_a_bad_amount_is_refused_before_touching_the_store(sqlite_url):
    bad = relance(sqlite_url, *[a if a != "1 500,00" else "1.000,5" for a in REGISTER])
    assert bad.returncode == 2
    assert "ambiguous amount" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("url", [
    "postgresql://nobody@127.0.0.1:1/nowhere",
    "mysql://localhost/relance",
])
def test_an_unusable_database_fails_at_start_with_one_line(url):
    result = relance(url, "db", "init")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 2
    assert lines[0].startswith("relance : ")
    assert "Traceback" not in result.stderr


def test_the_demo_portfolio_is_seeded_once(sqlite_url):
    first = relance(sqlite_url, "demo", "seed", "--files", "12", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "12 dossiers de démonstration" in first.stdout
    second = relance(sqlite_url, "demo", "seed", "--if-empty")
    assert "Base déjà remplie" in second.stdout


def test_an_import_reports_rejected_lines_and_exits_non_zero_then_says_nothing_is_new(
    store_url,
):
    factures = str(Path(__file__).parent.parent / "fixtures" / "import" / "factures_cp1252.csv")
    first = relance(store_url, "import", "invoices", factures)
    assert first.returncode == 1
    assert "2 factures enregistrées, 0 déjà présente, 4 rejetées." in first.stdout
    assert "ligne 6 : numéro déjà présent ligne 2" in first.stdout
    again = relance(store_url, "import", "invoices", factures)
    assert "0 facture enregistrée, 2 déjà présentes" in again.stdout
    missing = relance(store_url, "import", "invoices", "/nonexistent.csv")
    assert missing.returncode == 2
    assert "fichier illisible" in missing.stderr


def test_serve_with_two_workers_shares_one_projection_runner(store_url):
    import httpx

    from tests.builders import free_port, wait_until_up

    port = free_port()
    env = {**os.environ, "RELANCE_DATABASE_URL": store_url, "RELANCE_ACTOR": "marie.curie",
           "RELANCE_API_TOKEN": "jeton-de-test-0123456789"}
    server = subprocess.Popen([RELANCE, "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer jeton-de-test-0123456789"}
    try:
        wait_until_up(base)
        invoice = {"number": "W-1", "debtor_account": "411W", "debtor_name": "Deux SA",
                   "amount": "10.00", "issued_on": "2026-10-01", "due_on": "2026-10-31"}
        pushed = httpx.post(base + "/api/invoices", json=[invoice], headers=auth, timeout=10)
        assert pushed.status_code == 200, pushed.text
        for n in range(6):  # requests land on either process; each sees its own writes
            note = httpx.post(base + "/api/files/W-1/notes", headers=auth, timeout=10,
                              json={"text": f"note {n}"}).json()
            read = httpx.get(base + "/api/files/W-1", headers=auth, timeout=10,
                             params={"after": note["notification_id"]}).json()
            assert read["fresh"] is True
            assert read["history"][-1]["summary"].endswith(f"note {n}")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr.decode()
    runner = relance(store_url, "projections", "status")
    assert runner.returncode == 0


ENGLISH = re.compile(r"\b(the|its|it|does|not|fact|facts|file|follows|match|point|before|"
                     r"changed|since|head|cannot|read|shown|playbook|entry|differs|were|was|"
                     r"now|none)\b", re.IGNORECASE)
"""Words of the English findings that French output never holds."""


def _said(result: subprocess.CompletedProcess[str], folder: Path | None = None) -> str:
    """Everything the command printed, on one line (without the test's folder, if given)."""
    text = " ".join((result.stdout + result.stderr).split())
    return text.replace(str(folder), "…") if folder else text


def test_a_tampered_store_is_told_in_french_only(store_url, runtime, tmp_path):
    assert relance(store_url, *REGISTER).returncode == 0
    for day in ("02/11/2026", "03/11/2026"):
        paid = relance(store_url, "case", "record", "FA-2026-0042", "paiement", "--champ",
                       "amount=100", "--champ", f"received_on={day}", "--champ", "means=cheque")
        assert paid.returncode == 0, paid.stderr
    digest = tmp_path / "empreinte.json"
    assert relance(store_url, "digest", "--out", str(digest)).returncode == 0
    raw = RawEvents(runtime)
    rows = raw.rows("FA-2026-0042")

    raw.set_state("FA-2026-0042", 2, rows[1][2].replace(b"100.00", b"10.00"))
    for command in (["verify"], ["digest"]):
        told = relance(store_url, *command)
        assert told.returncode == 1
        assert ("FA-2026-0042, entrée n° 2 (Paiement reçu) : son contenu a changé depuis son "
                "enregistrement") in _said(told)
        assert not ENGLISH.search(_said(told)), _said(told)
    raw.set_state("FA-2026-0042", 2, rows[1][2])

    raw.delete("FA-2026-0042", 2)
    told = relance(store_url, "verify")
    assert "entrée n° 3 (Paiement reçu) : elle porte le n° 3 mais suit l'entrée n° 1" in \
        _said(told)
    assert not ENGLISH.search(_said(told)), _said(told)
    raw.insert("FA-2026-0042", 2, rows[1][1], rows[1][2])

    raw.delete("FA-2026-0042", 3)                   # cut short: only the digest can tell
    told = relance(store_url, "verify", "--digest", str(digest))
    assert told.returncode == 1
    assert ("Registre altéré depuis l'empreinte : FA-2026-0042 : son historique jusqu'à "
            "l'entrée n° 3 a changé depuis l'empreinte") in _said(told)
    assert not ENGLISH.search(_said(told)), _said(told)


def test_a_tampered_export_or_an_unusable_digest_is_told_in_french_only(sqlite_url, tmp_path):
    assert relance(sqlite_url, *REGISTER).returncode == 0
    export = tmp_path / "dossier.json"
    assert relance(sqlite_url, "export", "FA-2026-0042", "--out", str(export)).returncode == 0
    export.write_text(export.read_text(encoding="utf-8").replace("1500.00", "150.00"),
                      encoding="utf-8")
    told = relance(sqlite_url, "verify", str(export))
    assert told.returncode == 1
    assert "Export altéré : FA-2026-0042, entrée n° 1 (Facture enregistrée) : son contenu" \
        in _said(told)
    not_json = tmp_path / "empreinte.json"
    not_json.write_text(json.dumps({"root": "abc"}), encoding="utf-8")
    for args in ([str(tmp_path / "absent.pdf")], ["--digest", str(tmp_path / "absent.json")],
                 ["--digest", str(not_json)], ["--root", "abc"]):
        unusable = relance(sqlite_url, "verify", *args)
        assert unusable.returncode == 2, args
        assert "Traceback" not in unusable.stderr
        assert not ENGLISH.search(_said(unusable, tmp_path)), _said(unusable)
    assert not ENGLISH.search(_said(told, tmp_path)), _said(told)
