"""The `relance` command as a person types it, on each store."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cli_runner import RELANCE, relance

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
    assert "2 factures enregistré(s), 0 déjà présent(s), 4 rejeté(s)." in first.stdout
    assert "ligne 6 : numéro déjà présent ligne 2" in first.stdout
    again = relance(store_url, "import", "invoices", factures)
    assert "0 factures enregistré(s), 2 déjà présent(s)" in again.stdout
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
