"""Personal data sealed under a key per person, so that it can be erased from an immutable
record without breaking its chain.

A person reached at a debtor (a `Contact`: name, function, phone, e-mail) is sealed when
a fact names them: the fact's digest covers a *commitment* to their data (SHA-256 over a
random salt and the data), never the data itself; the stored fact holds the commitment
beside the data and the salt, encrypted with AES-GCM under the person's key (the
subject's key), with the subject and the commitment as associated data.

- With the key, the data is read back, and its commitment checked again.
- Without it (the person was erased: their key destroyed), the fact still loads, shows
  « donnée effacée », and its digest still holds, since it covers the commitment only.
  The salt went with the key: nobody can test a guessed phone number against the
  commitment.

Keys are kept apart from the events (`Keys`; adapters/infra/keys.py stores them in their
own table). Facts written before sealing hold their people in clear, and verify as
before: destroying a key cannot erase them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Protocol
from uuid import NAMESPACE_URL, uuid5

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ERASED = "donnée effacée"
"""What is shown where erased personal data was."""

SUBJECT_NAMESPACE = uuid5(NAMESPACE_URL, "relance:person")
"""Subjects' ids derive from the debtor's account and the person's name (see `subject_of`)."""

KEY_BYTES = 32
KEPT_KEYS = 4096
"""Keys (and their ciphers) a process keeps, the ones used last: above what a batch of
the catch-up names, and flat along a long run (an export of every file, a rebuild)."""
NONCE_BYTES = 12


FREE_TEXT = frozenset({"summary", "details", "note", "text"})
"""The fields of facts that hold what people wrote in their own words (a call's summary, a
note, a reply's text): sealed under the debtor's own subject (`debtor_subject`). Whom a
message went to (`recipient`: an address, a name) is sealed under that address's or
name's own subject, which erasing the person it belongs to destroys too."""


class SealedText(str):
    """Free text sealed under a subject's key: a `str` everywhere it is read, with the
    salt and the commitment its fact's digest covers (« donnée effacée » once erased)."""

    @property
    def subject(self) -> str:
        return self.__dict__.get("subject", "")

    @property
    def is_erased(self) -> bool:
        return not self.__dict__.get("salt")

    def __canonical__(self) -> dict[str, object]:
        return {"$sealed": {"subject": self.subject, "commitment": self.__dict__["commitment"]}}

    def plain(self) -> dict[str, str]:
        return {"text": str(self)}


def sealed_text(text: str, subject: str, salt: str = "", commitment: str = "") -> SealedText:
    """`text` sealed under `subject`'s key (salt and commitment made anew unless given, as
    when it is read back)."""
    sealed = SealedText(text)
    if not salt and not commitment:
        salt = new_salt()
        commitment = commitment_of(salt, {"text": text})
    sealed.__dict__.update(subject=subject, salt=salt, commitment=commitment)
    return sealed


@lru_cache(maxsize=16_384)
def debtor_subject(account: str) -> str:
    """The subject of what is written about a debtor in free text: erased with the debtor
    (at the end of retention), not with one of its people. Kept for the accounts last
    asked: a SHA-1 and a UUID made anew cost a note 5 µs."""
    return "d-" + uuid5(SUBJECT_NAMESPACE, f"debtor\n{account.strip()}").hex


class SealBroken(ValueError):
    """Sealed data whose key is known but that does not open, or does not match its
    commitment: it was altered after it was written."""


@lru_cache(maxsize=16_384)
def subject_of(account: str, name: str) -> str:
    """The subject a person at a debtor is sealed under: the same name (spaces and case
    aside) at the same debtor is the same person, and one key covers them."""
    key = " ".join(name.split()).casefold()
    return "p-" + uuid5(SUBJECT_NAMESPACE, f"{account.strip()}\n{key}").hex


def commitment_of(salt: str, plain: Mapping[str, str]) -> str:
    """SHA-256 over the salt and the canonical JSON of the personal data."""
    body = orjson.dumps(dict(plain), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(b"relance-sealed/1\n" + salt.encode() + b"\n" + body).hexdigest()


def new_salt() -> str:
    """A random salt: 128 bits, as hexadecimal."""
    return secrets.token_hex(16)


class Keys(Protocol):
    """Where the subjects' keys are kept."""

    def key(self, subject: str, *, create: bool) -> bytes | None:
        """The subject's key, created first when `create` and none exists yet; None once
        it was destroyed (or never existed and `create` is false)."""

    def destroy(self, subject: str) -> bool:
        """Destroys the subject's key for good; False when there was none."""

    def forget_cached(self) -> None:
        """Drops any key this process keeps in memory (another process destroyed one)."""

    def prefetch(self, subjects: set[str], *, create: bool = False) -> None:
        """Reads the keys of `subjects` that are not at hand in one go, first creating
        those that do not exist when `create` (a hint: `key` reads, or creates, any it
        still lacks)."""

    def erased_elsewhere(self) -> bool:
        """Whether another process destroyed a key since this one last looked: what this
        one keeps decoded may name an erased person."""


SUBJECT_IN_STATE = re.compile(rb'"subject":"([pd]-[0-9a-f]{32})"')
"""A subject named in a stored fact's JSON (see `Sealer.prefetch`)."""


class MemoryKeys:
    """Keys kept in this process only: for a store in memory, where nothing outlives it."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._destroyed: set[str] = set()
        self._lock = threading.Lock()

    def key(self, subject: str, *, create: bool) -> bytes | None:
        with self._lock:
            if subject in self._destroyed:
                return None
            if subject not in self._keys and create:
                self._keys[subject] = os.urandom(KEY_BYTES)
            return self._keys.get(subject)

    def destroy(self, subject: str) -> bool:
        with self._lock:
            self._destroyed.add(subject)
            return self._keys.pop(subject, None) is not None

    def forget_cached(self) -> None:
        return None

    def prefetch(self, subjects: set[str], *, create: bool = False) -> None:  # noqa: ARG002
        return None  # every key is at hand

    def erased_elsewhere(self) -> bool:
        return False  # no other process


class Sealer:
    """Seals and opens personal data with the subjects' keys (set once the store is up)."""

    def __init__(self, keys: Keys | None = None) -> None:
        self.keys: Keys = keys or MemoryKeys()
        self._ciphers: dict[bytes, AESGCM] = {}

    def forget(self) -> None:
        """Drops every key this process holds (and the ciphers made of them)."""
        self._ciphers = {}
        self.keys.forget_cached()

    def prefetch(self, states: Iterable[bytes]) -> None:
        """Before stored facts are decoded, reads the keys of the subjects they name in
        one query instead of one per subject (a batch of the log, a file's facts)."""
        subjects = {m for state in states for m in SUBJECT_IN_STATE.findall(state)}
        if subjects:
            self.keys.prefetch({s.decode("ascii") for s in subjects})

    def _cipher(self, key: bytes) -> AESGCM:
        cipher = self._ciphers.get(key)
        if cipher is None:
            if len(self._ciphers) >= KEPT_KEYS:  # keys seen by a long run
                self._ciphers.clear()
            cipher = self._ciphers[key] = AESGCM(key)
        return cipher

    def seal(self, subject: str, commitment: str, plain: Mapping[str, str]) -> str:
        """The data (with its salt) encrypted under the subject's key, as base64."""
        key = self.keys.key(subject, create=True)
        if key is None:
            raise SealBroken(f"subject {subject} was erased: nothing more is sealed for them")
        nonce = os.urandom(NONCE_BYTES)
        body = orjson.dumps(dict(plain), option=orjson.OPT_SORT_KEYS)
        sealed = self._cipher(key).encrypt(nonce, body, _associated(subject, commitment))
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, subject: str, commitment: str, sealed: str) -> dict[str, Any] | None:
        """The data sealed for the subject, or None when their key is gone; refuses data
        that does not open or does not match its commitment."""
        key = self.keys.key(subject, create=False)
        if key is None:
            return None
        raw = binascii.a2b_base64(sealed)  # base64.b64decode's work, without its checks of type
        try:
            body = self._cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       _associated(subject, commitment))
        except InvalidTag:
            raise SealBroken(f"sealed data of subject {subject} does not open") from None
        plain = orjson.loads(body)
        salt = plain.pop("salt", "")
        if commitment_of(salt, plain) != commitment:
            raise SealBroken(f"sealed data of subject {subject} does not match its commitment")
        plain["salt"] = salt
        return plain


def _associated(subject: str, commitment: str) -> bytes:
    return f"relance-sealed/1 {subject} {commitment}".encode()
