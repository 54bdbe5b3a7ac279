"""The ASGI app behind the Messages API stub: routes, streaming, and the request record.

It answers only what Claude Code calls when kept offline: `HEAD /` (a pre-connect probe) and
`POST /v1/messages` (with or without `?beta=true`). Anything else gets the API's 404 error
body and is still recorded, so a test notices a call it did not expect.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kubesim.messages_stub import replies, sse

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)

# Header values a test must never see in a record or a log line.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
REDACTED = "<redacted>"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub saw it, with secret header values replaced by `<redacted>`."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any = None
    status: int = 0
    reply: str = ""


@dataclass
class MessagesApp:
    """ASGI app answering the Messages API from a `Script`, recording every request."""

    script: replies.Script
    seed: int = 0
    on_record: Callable[[RecordedRequest], None] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = sse.IdSource(self.seed)

    def message_requests(self) -> list[RecordedRequest]:
        """The recorded `POST /v1/messages` calls, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/messages"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"messages stub: unsupported ASGI scope {scope['type']!r}")
        raw_body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        response = self._respond(method, path, raw_body)
        # Record before answering, so a client that has its answer finds the request recorded.
        record = RecordedRequest(
            method=method, path=path, query=scope.get("query_string", b"").decode("latin-1"),
            headers=_safe_headers(scope), body=_json_or_none(raw_body), status=response.status,
            reply=response.kind,
        )
        self.requests.append(record)
        if self.on_record is not None:
            self.on_record(record)
        log.info("messages stub: %s %s -> %d %s", method, path, response.status, response.kind)
        await response.send(send)

    def _respond(self, method: str, path: str, raw_body: bytes) -> _Response:
        request_id = self._ids.request_id()
        if method in ("HEAD", "GET") and path == "/":
            return _Response(200, "probe", [b""], content_type="text/plain")
        if method != "POST" or path != "/v1/messages":
            error = replies.ErrorReply(404, "not_found_error", f"Not found: {method} {path}")
            return _Response(404, "not_found", [sse.error_body(error, request_id=request_id)])
        try:
            request = msgspec.json.decode(raw_body, type=replies.MessagesRequest)
        except msgspec.DecodeError as exc:
            bad = replies.ErrorReply(400, "invalid_request_error", f"stub: bad request body: {exc}")
            return _Response(400, "bad_request", [sse.error_body(bad, request_id=request_id)])
        reply = self.script.reply_for(request)
        if isinstance(reply, replies.ErrorReply):
            return _Response(reply.status, "error", [sse.error_body(reply, request_id=request_id)],
                             request_id=request_id)
        message = sse.build_message(reply, model=request.model or replies.DEFAULT_MODEL,
                                    ids=self._ids)
        kind = "tool_use" if isinstance(reply, replies.ToolUseReply) else "text"
        if not request.stream:
            return _Response(200, kind, [msgspec.json.encode(message)], request_id=request_id)
        events = [sse.encode_event(event) for event in sse.stream_events(message)]
        return _Response(200, kind, events, content_type="text/event-stream; charset=utf-8",
                         request_id=request_id, streamed=True)


@dataclass(frozen=True)
class _Response:
    """A fully decided answer; `streamed` sends each chunk as its own body message."""

    status: int
    kind: str
    chunks: list[bytes]
    content_type: str = "application/json"
    request_id: str | None = None
    streamed: bool = False

    async def send(self, send: Send) -> None:
        headers = [(b"content-type", self.content_type.encode())]
        if self.request_id is not None:
            headers.append((b"request-id", self.request_id.encode()))
        if not self.streamed:
            body = b"".join(self.chunks)
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        # No content-length: the server sends each event as its own chunk, as the API does.
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunks.append(event.get("body", b""))
        if not event.get("more_body", False):
            break
    return b"".join(chunks)


def _safe_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        headers[name] = REDACTED if name in SECRET_HEADERS else raw_value.decode("latin-1")
    return headers


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
