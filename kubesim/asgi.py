"""The small HTTP layer under the API (ASGI): requests, responses, streaming.

Streams (pod logs with ``follow``, watches) are sent as HTTP/1.1 chunked bodies, one ASGI body
message per piece, so clients see each piece as it is produced (the Python client only streams
chunked bodies). A stream that raises ``AbortStream`` ends without the terminating chunk: the
client sees the connection drop mid-body, which is how cut log streams are simulated. A client
that disconnects cancels its stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import msgspec
import trio

from kubesim import errors

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_encoder = msgspec.json.Encoder()


class AbortStream(Exception):
    """Raised by a stream body to drop the connection without finishing the body."""


@dataclass
class Request:
    """One decoded HTTP request (the body is read in full before handling)."""

    method: str
    path: str
    query_string: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``true``/``1``)."""
        return (self.param(name) or "").lower() in ("true", "1")

    def int_param(self, name: str, *, minimum: int | None = None) -> int | None:
        """An integer query parameter.

        Raises:
            errors.BadRequest: it is not an integer or is below ``minimum``.
        """
        text = self.param(name)
        if text is None or text == "":
            return None
        try:
            value = int(text)
        except ValueError:
            raise errors.BadRequest(f"{name}: invalid integer {text!r}") from None
        if minimum is not None and value < minimum:
            raise errors.BadRequest(f"{name}: must be at least {minimum}, got {value}")
        return value

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            errors.BadRequest: the body is empty or not JSON.
        """
        if not self.body:
            raise errors.BadRequest("the request body is empty; a JSON object is required")
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise errors.BadRequest(f"the request body is not valid JSON: {exc}") from exc

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    """A complete response."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    """A response whose body is produced piece by piece."""

    status: int
    chunks: AsyncIterator[bytes]
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


AnyResponse = Response | StreamResponse


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Encode ``obj`` as a JSON response."""
    return Response(status, _encoder.encode(obj), headers=headers or {})


def error_response(error: errors.ApiError) -> Response:
    """The ``kind: Status`` response for an API error."""
    return json_response(error.status(), error.code, error.headers)


async def read_request(scope: Scope, receive: Receive) -> Request:
    """Collect the request line, headers and whole body."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    query_string = scope.get("query_string", b"").decode("latin-1")
    return Request(
        method=scope["method"].upper(),
        path=scope["path"],
        query_string=query_string,
        query=parse_qs(query_string, keep_blank_values=True),
        headers={
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        },
        body=bytes(body),
    )


def _header_list(response: AnyResponse) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", response.content_type.encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in response.headers.items()]
    return headers


async def send_response(response: AnyResponse, send: Send, receive: Receive) -> None:
    """Send a response; a stream is cancelled if the client goes away."""
    if isinstance(response, Response):
        headers = _header_list(response)
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": False})
        return
    await send({
        "type": "http.response.start", "status": response.status,
        "headers": _header_list(response),
    })
    finished = False
    async with trio.open_nursery() as nursery:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            nursery.cancel_scope.cancel(reason="client disconnected")

        nursery.start_soon(watch_disconnect)
        try:
            async for chunk in response.chunks:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finished = True
        except AbortStream:
            pass
        finally:
            aclose = getattr(response.chunks, "aclose", None)
            if aclose is not None:
                with trio.CancelScope(shield=True):
                    await aclose()
        nursery.cancel_scope.cancel(reason="stream finished")
    if finished:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
