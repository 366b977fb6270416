"""Digests anchored by a timestamping authority (RFC 3161).

`relance digest --horodatage URL` asks the authority at URL to sign the store's root with
the time: the request carries the SHA-256 of the root's text (its 64 hexadecimal
characters, as `relance digest` prints them), never the record itself. The authority's
answer (its token, with its certificate) is kept in the store, in the table
`digest_timestamps`, and written into the digest file. Whoever holds the digest file and
the authority's root certificate can later prove, without trusting relance or its
database, that this root existed at that time: a record rewritten since gives another
root, which the token does not cover.

The requests, answers and checks are `rfc3161-client`'s.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from projections.storage import Type, ViewStore

TIMEOUT = 20.0
MAX_ANSWER = 1 << 20
"""An authority's answer is a few kilobytes; more is not read."""


class TimestampError(Exception):
    """A token could not be obtained, or does not hold: `detail` in English for the log,
    `french` for the person."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.french = french


@dataclass(frozen=True)
class Anchor:
    """A root signed with the time by an authority."""

    position: int
    root: str
    authority_url: str
    authority: str
    """The name on the authority's signing certificate."""
    signed_at: datetime
    token: bytes
    """The authority's whole answer (DER), as received."""

    def as_json(self) -> dict[str, object]:
        """What the digest file keeps of it."""
        return {"authority_url": self.authority_url, "authority": self.authority,
                "signed_at": self.signed_at.isoformat(), "position": self.position,
                "root": self.root, "token": base64.b64encode(self.token).decode("ascii")}


def imprint(root: str) -> bytes:
    """What the authority signs: the SHA-256 of the root's text."""
    return hashlib.sha256(root.encode("ascii")).digest()


def request_anchor(url: str, root: str, position: int) -> Anchor:
    """Asks the authority at `url` (http or https) to sign `root`; the token, checked to
    cover it."""
    if not url.lower().startswith(("http://", "https://")):
        raise TimestampError(f"a timestamping authority is reached over http(s), not {url}",
                             f"l'adresse d'une autorité d'horodatage commence par http:// ou "
                             f"https:// ({url})")
    request = (TimestampRequestBuilder().data(root.encode("ascii"))
               .hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True)
               .cert_request(cert_request=True).build())
    post = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=request.as_bytes(), method="POST", headers={
        "Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT) as answer:  # noqa: S310 - the URL is the operator's
            body = answer.read(MAX_ANSWER + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise TimestampError(f"the timestamping authority {url} did not answer: {error}",
                             f"l'autorité d'horodatage {url} n'a pas répondu (le détail "
                             "est dans le journal)") from error
    response = _decoded(body)
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the timestamping authority refused: status {response.status}",
                             f"l'autorité d'horodatage a refusé (statut {response.status})")
    if response.tst_info.message_imprint.message != imprint(root):
        raise TimestampError("the token does not cover the root sent",
                             "le jeton reçu ne porte pas sur l'empreinte envoyée")
    if response.tst_info.nonce != request.nonce:
        raise TimestampError("the token answers another request (nonce)",
                             "le jeton reçu répond à une autre demande")
    return Anchor(position, root, url, authority_name(response),
                  response.tst_info.gen_time.astimezone(UTC), response.as_bytes())


def _decoded(body: bytes) -> TimeStampResponse:
    if len(body) > MAX_ANSWER:
        raise TimestampError("the authority's answer is over 1 MiB",
                             "la réponse de l'autorité d'horodatage est trop longue")
    try:
        return decode_timestamp_response(body)
    except (ValueError, TypeError) as error:
        raise TimestampError(f"the token does not read: {error}",
                             "le jeton d'horodatage est illisible") from error


def authority_name(response: TimeStampResponse) -> str:
    """The common name (or whole name) on the certificate that signed the token."""
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in _usages(certificate):
            names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            return str(names[0].value) if names else certificate.subject.rfc4514_string()
    return "autorité inconnue"


def _usages(certificate: x509.Certificate) -> list[x509.ObjectIdentifier]:
    try:
        return list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


@dataclass(frozen=True)
class Checked:
    """What a check of a token established."""

    authority: str
    signed_at: datetime
    trusted: bool
    """True when the signature was checked up to a root certificate given by the person;
    False when only the imprint was checked (no root given)."""


def check_anchor(token: bytes, root: str, trust: list[x509.Certificate] | None) -> Checked:
    """Checks that `token` covers `root` and, given the authority's root certificates,
    that the authority signed it. Raises `TimestampError` saying what does not hold."""
    response = _decoded(token)
    if response.tst_info.message_imprint.message != imprint(root):
        raise TimestampError("the token does not cover this root",
                             "le jeton d'horodatage ne porte pas sur cette empreinte : "
                             "l'empreinte ou le jeton a été modifié")
    if trust:
        builder = VerifierBuilder()
        for certificate in trust:
            builder = builder.add_root_certificate(certificate)
        try:
            builder.build().verify(response, imprint(root))
        except (VerificationError, ValueError) as error:
            raise TimestampError(f"the token's signature does not verify: {error}",
                                 "la signature du jeton d'horodatage ne se vérifie pas "
                                 "avec le certificat racine donné") from error
    return Checked(authority_name(response), response.tst_info.gen_time.astimezone(UTC),
                   bool(trust))


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM file; a file without any is refused."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise TimestampError(f"no certificate reads in the file: {error}",
                             "aucun certificat lisible dans ce fichier (PEM attendu)"
                             ) from error
    return certificates


class Anchors:
    """The tokens obtained for the store's digests, in `digest_timestamps`."""

    def __init__(self, views: ViewStore, *, postgres: bool) -> None:
        self.views = views
        types = views.sql_types
        binary = "BYTEA" if postgres else "BLOB"
        views.execute(
            "CREATE TABLE IF NOT EXISTS {digest_timestamps} ("
            f"position {types[Type.INT]} NOT NULL, root {types[Type.TEXT]} NOT NULL, "
            f"authority_url {types[Type.TEXT]} NOT NULL, authority {types[Type.TEXT]} NOT NULL, "
            f"signed_at {types[Type.INSTANT]} NOT NULL, token {binary} NOT NULL, "
            "PRIMARY KEY (root, signed_at))", {})

    def keep(self, anchor: Anchor) -> None:
        """Keeps a token (the same one twice changes nothing)."""
        self.views.execute(
            "INSERT INTO {digest_timestamps} (position, root, authority_url, authority, "
            "signed_at, token) VALUES (:position, :root, :authority_url, :authority, "
            ":signed_at, :token) ON CONFLICT (root, signed_at) DO NOTHING",
            {"position": anchor.position, "root": anchor.root,
             "authority_url": anchor.authority_url, "authority": anchor.authority,
             "signed_at": anchor.signed_at, "token": bytes(anchor.token)})

    def all(self) -> list[Anchor]:
        """Every token kept, oldest first."""
        rows = self.views.rows(
            "SELECT position, root, authority_url, authority, signed_at, token "
            "FROM {digest_timestamps} ORDER BY signed_at, root", {},
            {"position": Type.INT, "signed_at": Type.INSTANT})
        return [Anchor(**{**row, "token": bytes(row["token"])}) for row in rows]


def token_of(data: object) -> bytes:
    """The token a digest file keeps (base64)."""
    try:
        return base64.b64decode(str(data["token"]), validate=True)  # type: ignore[index]
    except (KeyError, ValueError, TypeError) as error:
        raise TimestampError("the digest file's timestamp does not read",
                             "l'horodatage du fichier d'empreinte est illisible") from error
