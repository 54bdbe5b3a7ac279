"""The little of ASGI the API needs: a request view, capped body reading, response values.

Why this module exists: the API is plain ASGI (no framework) so it runs under Hypercorn on Trio
with nothing in between; this module keeps the ASGI message plumbing out of the handlers, which
take a :class:`Request` and return a :class:`Response` or a :class:`StreamResponse`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import msgspec

from supervisor import config
from supervisor.api import errors, schemas

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Emit = Callable[[bytes], Awaitable[None]]


class Request:
    """One HTTP request: method, path, path parameters, query and a body read on demand."""

    def __init__(self, scope: Scope, receive: Receive,
                 params: Mapping[str, str] | None = None) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.params: Mapping[str, str] = params or {}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        self.query: dict[str, list[str]] = parse_qs(raw_query, keep_blank_values=True)
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in scope.get("headers", [])}
        self._receive = receive
        self.body_read = False

    def query_value(self, name: str) -> str | None:
        """The single value of a query parameter (the last one if repeated)."""
        values = self.query.get(name)
        return values[-1] if values else None

    def check_query(self, allowed: set[str]) -> None:
        """Reject query parameters the endpoint does not know (a typo must not be ignored)."""
        for name in self.query:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise errors.ApiError(
                    400, errors.INVALID_REQUEST,
                    f"unknown query parameter {name!r} (this endpoint takes: {known})", name)

    async def body(self, *, limit: int) -> bytes:
        """Read the whole body, refusing one larger than ``limit`` bytes with a 413."""
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(int(declared), limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise errors.ApiError(400, errors.INVALID_REQUEST, "client went away", "(body)")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(size, limit, at_least=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                self.body_read = True
                return b"".join(chunks)

    async def wait_disconnect(self) -> None:
        """Return once the client has gone away (used while streaming a response)."""
        while (await self._receive())["type"] != "http.disconnect":
            pass


def _too_large(size: int, limit: int, *, at_least: bool = False) -> errors.ApiError:
    amount = f"more than {limit}" if at_least else str(size)
    return errors.ApiError(
        413, errors.BODY_TOO_LARGE,
        f"request body is {amount} bytes; this daemon accepts at most {limit} bytes "
        "(max_request_bytes)", "(body)")


class Response:
    """A complete response with a body."""

    def __init__(self, status: int, body: bytes, *, content_type: str = schemas.JSON,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


def json_response(status: int, payload: Any) -> Response:
    """``payload`` (dicts, lists, msgspec Structs) encoded as JSON."""
    return Response(status, schemas.encoder.encode(payload))


def error_response(error: errors.ApiError) -> Response:
    return Response(error.status, schemas.error_body(error.code, error.message, error.field),
                    headers=error.headers)


class StreamResponse:
    """A streamed 200 response: ``produce(emit)`` writes the body piece by piece.

    The producer runs in a cancel scope that is cancelled when the client disconnects or the
    daemon stops; either way the response is then closed cleanly.
    """

    def __init__(self, produce: Callable[[Emit], Awaitable[None]], *,
                 content_type: str = schemas.NDJSON) -> None:
        self.produce = produce
        self.content_type = content_type


def decode_json(body: bytes, struct: type[Any], *, empty_ok: bool = False) -> Any:
    """Decode a small JSON request body strictly into ``struct``, with a 400 naming the field."""
    if empty_ok and not body.strip():
        body = b"{}"
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise errors.ApiError(400, errors.INVALID_REQUEST, f"body is not valid JSON: {exc}",
                              "(body)") from exc
    try:
        return msgspec.convert(raw, struct)
    except msgspec.ValidationError as exc:
        field, message = config.describe_validation_error(exc, raw)
        raise errors.ApiError(400, errors.INVALID_REQUEST, message, field) from exc


async def send_response(send: Send, response: Response) -> None:
    headers = [(b"content-type", response.content_type.encode()),
               (b"content-length", str(len(response.body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})
