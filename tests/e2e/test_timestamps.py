"""Digests anchored by a timestamping authority (RFC 3161), through the command line.

The authority is local, made by the test: a test CA, a TSA certificate under it, and
`openssl ts -reply` behind an HTTP server on a free loopback port. Never a remote one.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adapters.bootstrap import bootstrap
from adapters.infra.timestamps import Anchors
from adapters.settings import Settings
from tests.e2e.test_cli import relance

AUTHORITY = "Horodatage de test relance"


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    """A timestamping authority on loopback: its URL and its CA's certificate (PEM)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to run a local timestamping authority")
    home = tmp_path_factory.mktemp("tsa")
    ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    ca = _certificate("CA de test relance", ca_key, "CA de test relance", ca_key, ca=True)
    tsa = _certificate(AUTHORITY, tsa_key, "CA de test relance", ca_key, ca=False)
    (home / "ca.pem").write_bytes(_pem(ca))
    (home / "tsa.pem").write_bytes(_pem(tsa))
    (home / "tsa.key").write_bytes(tsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (home / "serial").write_text("01\n")
    (home / "tsa.cnf").write_text(f"""
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {home}
serial = $dir/serial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
ess_cert_id_chain = no
ordering = no
tsa_name = yes
""")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            answered = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(home / "tsa.cnf"),
                 "-queryfile", "/dev/stdin", "-out", "/dev/stdout"],
                input=query, capture_output=True, check=True)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answered.stdout)))
            self.end_headers()
            self.wfile.write(answered.stdout)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", home / "ca.pem"
    server.shutdown()
    server.server_close()


def test_a_timestamped_digest_verifies_and_fails_once_its_root_or_token_is_altered(
    store_url, tmp_path, authority
):
    url, ca = authority
    registered = relance(store_url, "invoice", "register", "--number", "TSA-1",
                         "--debtor-account", "411TSA", "--debtor-name", "Horo SA",
                         "--amount", "100,00", "--issued", "01/10/2026", "--due", "31/10/2026")
    assert registered.returncode == 0, registered.stderr
    digest = tmp_path / "digest.json"
    taken = relance(store_url, "digest", "--out", str(digest), "--horodatage", url)
    assert taken.returncode == 0, taken.stderr
    assert f"Horodatée par {AUTHORITY} le " in taken.stdout
    written = json.loads(digest.read_text(encoding="utf-8"))
    assert written["timestamp"]["root"] == written["root"]

    checked = relance(store_url, "verify", "--digest", str(digest), "--tsa-ca", str(ca))
    assert checked.returncode == 0, checked.stderr
    assert f"Horodatage vérifié : {AUTHORITY} a signé cette empreinte le " in checked.stdout
    assert "Rien n'a changé" in checked.stdout
    unanchored = relance(store_url, "verify", "--digest", str(digest))
    assert unanchored.returncode == 0, unanchored.stderr
    assert "donnez --tsa-ca" in unanchored.stdout

    # The token is kept in the store, beside the record.
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        (kept,) = Anchors(runtime.views, postgres=runtime.store.is_postgres).all()
    finally:
        runtime.close()
    assert (kept.root, kept.authority) == (written["root"], AUTHORITY)
    assert base64.b64encode(kept.token).decode() == written["timestamp"]["token"]

    # An export taken afterwards carries the token, and still verifies offline.
    export = tmp_path / "export.json"
    assert relance(store_url, "export", "TSA-1", "--out", str(export)).returncode == 0
    (carried,) = json.loads(export.read_text(encoding="utf-8"))["header"]["timestamps"]
    assert (carried["root"], carried["token"]) == (written["root"],
                                                   written["timestamp"]["token"])
    assert relance(store_url, "verify", str(export)).returncode == 0

    # Another root (a record rewritten, its digest redone) is not what the token covers.
    altered_root = tmp_path / "root.json"
    other = "0" * 64 if written["root"] != "0" * 64 else "1" * 64
    altered_root.write_text(json.dumps({**written, "root": other}), encoding="utf-8")
    refused = relance(store_url, "verify", "--digest", str(altered_root), "--tsa-ca", str(ca))
    assert refused.returncode == 1
    assert "Horodatage invalide : le jeton d'horodatage ne porte pas sur cette empreinte" in \
        refused.stderr

    # A byte of the token changed: its signature no longer holds.
    token = bytearray(kept.token)
    token[-20] ^= 0x01
    altered_token = tmp_path / "token.json"
    altered_token.write_text(json.dumps({**written, "timestamp": {
        **written["timestamp"], "token": base64.b64encode(bytes(token)).decode()}}),
        encoding="utf-8")
    broken = relance(store_url, "verify", "--digest", str(altered_token), "--tsa-ca", str(ca))
    assert broken.returncode == 1
    assert "Horodatage invalide" in broken.stderr


    # relance verify re-checks the tokens kept in the store: sound, then one altered there.
    whole = relance(store_url, "verify", "--tsa-ca", str(ca))
    assert whole.returncode == 0, whole.stderr
    assert f"1 horodatage conservé : chaque jeton porte sur l'empreinte du registre à sa " \
           f"position ; le dernier, de {AUTHORITY}, le " in whole.stdout
    runtime = bootstrap(Settings(database_url=store_url))
    try:
        runtime.views.execute("UPDATE {digest_timestamps} SET token = :token",
                              {"token": bytes(token)})
    finally:
        runtime.close()
    tampered = relance(store_url, "verify", "--tsa-ca", str(ca))
    assert tampered.returncode == 1
    assert "Horodatage conservé invalide : le jeton du " in tampered.stderr

def test_an_authority_that_does_not_answer_gives_no_digest_file(store_url, tmp_path):
    digest = tmp_path / "digest.json"
    taken = relance(store_url, "digest", "--out", str(digest), "--horodatage",
                    "http://127.0.0.1:1/tsa")
    assert taken.returncode == 1
    assert "Horodatage impossible : l'autorité d'horodatage http://127.0.0.1:1/tsa n'a pas " \
        "répondu" in taken.stderr
    assert not digest.exists()

