"""A command-shaped request with nothing of relance in it, for `bench.floors`: FastAPI, a
`def` route on a path with a parameter, taking a JSON body (a note's fields, validated
by pydantic) and a bearer token, answering a small JSON body. Served as relance serves
(uvicorn, uvloop, httptools with relance's bound on a request's head, the same number
of workers), it costs what the web stack relance is built on costs a command before
relance does anything."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import FastAPI, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

app = FastAPI()
BEARER = HTTPBearer()
ANSWER = b'{"facts":1,"notification_id":1,"replayed":false}'


class NoteIn(BaseModel):
    """The fields of a note, as relance's API takes them."""

    text: str = Field(max_length=20_000)
    occurred_at: datetime | None = None
    idempotency_key: str | None = Field(default=None, max_length=100)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Up."""
    return {"status": "ok"}


@app.post("/api/files/{number}/notes")
def post_note(number: str, note: NoteIn,  # noqa: ARG001 - parsed and validated, as relance's
              _: Annotated[HTTPAuthorizationCredentials, Security(BEARER)]) -> Response:
    """Takes the note and answers as relance's API does, recording nothing."""
    return Response(ANSWER, media_type="application/json")
