"""The HTTP/1.1 protocol relance is served with: uvicorn's, on httptools (llhttp, the C
parser of Node.js), with the bound on a request's head that h11 had and httptools lacks.

h11, uvicorn's pure-Python parser, cost a command about a tenth of the web's CPU (0.115
ms of 1.08 with two web processes, `bench.commands`). httptools also refuses a request
carrying both `Content-Length` and `Transfer-Encoding` (a smuggling attempt), which h11
let through. But it keeps any request line and headers it is sent, however long, until
they end: a client could fill the memory of a web process by never ending them. This
protocol counts the bytes of a head still incomplete and answers 431 past `MAX_HEAD`;
an address longer than httptools takes is answered 414, not a bare 400."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 1024 * 1024
"""The most bytes a request's line and headers may take. A browser sends a few KiB."""
MAX_URL = 65535
"""The longest address httptools parses (it refuses longer ones)."""


def _answer(status: bytes, text: bytes) -> bytes:
    """A whole plain-text answer that closes the connection."""
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n"
            + text)


HEAD_TOO_LARGE = _answer(b"431 Request Header Fields Too Large",
                         b"Request header fields too large.\n")
URI_TOO_LONG = _answer(b"414 URI Too Long", b"Request address too long.\n")


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over `MAX_HEAD` bytes.

    Counts every byte received while a head is still open (from the connection's start,
    then from the end of each request): those of one read that also held the end of the
    request before are counted too: an overcount of at most one read (256 KiB with uvloop),
    which a head of up to 768 KiB never meets."""

    in_head = True
    head_bytes = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.in_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > MAX_HEAD:
            self.logger.warning("Request head too large.")
            self._refuse(HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.in_head, self.head_bytes = True, 0

    def send_400_response(self, msg: str) -> None:
        if len(getattr(self, "url", b"")) > MAX_URL:
            self._refuse(URI_TOO_LONG)
            return
        super().send_400_response(msg)

    def _refuse(self, answer: bytes) -> None:
        self.transport.write(answer)
        self.transport.close()
