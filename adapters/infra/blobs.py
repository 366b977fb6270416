"""Documents' bytes, stored by the SHA-256 of their content in the events' own database
(the SQLite file, or the PostgreSQL schema of RELANCE_DATABASE_URL).

One table, `document_blobs`: a row per distinct content, keyed by its digest. Facts name
a document by that digest only (`DocumentAttached`), so the same bytes stored twice are
one row, and a row whose bytes no longer hash to their key is an altered document (`relance
verify` looks). Rows are never updated or deleted by relance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.attachments import MAX_DOCUMENT_SIZE, size_in_french
from projections.schema import Type
from projections.storage import ViewStore


class BlobRefused(ValueError):
    """Bytes the store does not keep (none at all, or more than the limit); the message is
    the English detail, `french` the sentence shown to people."""

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail)
        self.french = french


@dataclass(frozen=True)
class StoredBlob:
    """What is known of stored bytes beside them: their digest, media type and size, and
    when they were first stored."""

    sha256: str
    media_type: str
    size: int
    stored_at: datetime


def sha256_of(content: bytes) -> str:
    """The SHA-256 of some bytes, as 64 lowercase hexadecimal characters."""
    return hashlib.sha256(content).hexdigest()


class BlobStore:
    """Bytes by their SHA-256, in the table `document_blobs` of the view store's database."""

    def __init__(self, views: ViewStore, clock: Callable[[], datetime], *,
                 postgres: bool, limit: int = MAX_DOCUMENT_SIZE) -> None:
        self.views = views
        self.clock = clock
        self.limit = limit
        types = views.sql_types
        binary = "BYTEA" if postgres else "BLOB"
        views.execute(
            "CREATE TABLE IF NOT EXISTS {document_blobs} (sha256 TEXT PRIMARY KEY, "
            f"media_type {types[Type.TEXT]} NOT NULL, size {types[Type.INT]} NOT NULL, "
            f"content {binary} NOT NULL, stored_at {types[Type.INSTANT]} NOT NULL)", {})

    def put(self, content: bytes, media_type: str) -> str:
        """Stores the bytes (once: the same bytes again change nothing) and returns their
        digest. Empty content, or content over the limit (20 MiB), is refused."""
        if not content:
            raise BlobRefused("an empty document is not stored", "Le fichier est vide.")
        if len(content) > self.limit:
            raise BlobRefused(
                f"a document has at most {self.limit} bytes, got {len(content)}",
                f"Le document dépasse la taille permise ({size_in_french(self.limit)} au "
                f"plus ; celui-ci fait {size_in_french(len(content))}).")
        digest = sha256_of(content)
        self.views.execute(
            "INSERT INTO {document_blobs} (sha256, media_type, size, content, stored_at) "
            "VALUES (:sha256, :media_type, :size, :content, :stored_at) "
            "ON CONFLICT (sha256) DO NOTHING",
            {"sha256": digest, "media_type": media_type, "size": len(content),
             "content": bytes(content), "stored_at": self.clock()})
        return digest

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under a digest, as stored (None when there are none)."""
        rows = self.views.rows("SELECT content FROM {document_blobs} WHERE sha256 = :sha256",
                               {"sha256": sha256}, {})
        return bytes(rows[0]["content"]) if rows else None

    def info(self, sha256: str) -> StoredBlob | None:
        """What is known of the bytes stored under a digest, without reading them."""
        rows = self.views.rows(
            "SELECT sha256, media_type, size, stored_at FROM {document_blobs} "
            "WHERE sha256 = :sha256", {"sha256": sha256},
            {"size": Type.INT, "stored_at": Type.INSTANT})
        return StoredBlob(**rows[0]) if rows else None

    def check(self, sha256: str) -> bool:
        """True when bytes are stored under the digest and still hash to it."""
        content = self.get(sha256)
        return content is not None and sha256_of(content) == sha256
