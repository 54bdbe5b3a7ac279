"""The ASGI application: lifespan, dispatch through the route table, errors as JSON bodies.

Why this module exists: it is the one place that turns a handler's outcome into ASGI messages —
a :class:`~supervisor.api.asgi.Response`, a streamed NDJSON body, or an
:class:`~supervisor.api.errors.ApiError` as ``{"error": {code, message, field?}}`` — and that
catches a handler's bug as a 500 without losing the daemon.
"""

from __future__ import annotations

import logging

import trio

from supervisor import logs
from supervisor.api import asgi, errors, routes, schemas
from supervisor.api.context import ApiContext

_log = logging.getLogger(__name__)


class ApiApp:
    """The ``/v1`` API as an ASGI 3 application over an :class:`ApiContext`."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"unsupported ASGI scope type {scope['type']!r}")
        self.ctx.requests_total += 1
        request = asgi.Request(scope, receive)
        try:
            handler, params = routes.resolve(request.method, request.path)
            request.params = params
            outcome = await handler(self.ctx, request)
        except errors.ApiError as exc:
            outcome = asgi.error_response(exc)
        except Exception:
            _log.exception("api.handler_failed", extra=logs.fields(
                method=request.method, path=request.path))
            outcome = asgi.Response(500, schemas.error_body(
                errors.INTERNAL_ERROR, "internal error; the daemon's log has the details"))
        if isinstance(outcome, asgi.StreamResponse):
            await _stream(request, send, outcome)
        else:
            await asgi.send_response(send, outcome)


async def _lifespan(receive: asgi.Receive, send: asgi.Send) -> None:
    # Hypercorn needs a real lifespan answer under Trio (returning early crashes it).
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _stream(request: asgi.Request, send: asgi.Send, response: asgi.StreamResponse) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", response.content_type.encode()),
                            (b"cache-control", b"no-store")]})

    async def emit(chunk: bytes) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async with trio.open_nursery() as nursery:
        async def watch_disconnect() -> None:
            await request.wait_disconnect()
            nursery.cancel_scope.cancel(reason="client disconnected")

        nursery.start_soon(watch_disconnect)
        await response.produce(emit)
        nursery.cancel_scope.cancel(reason="stream complete")
    # After a disconnect Hypercorn drops this; otherwise it ends the chunked body cleanly.
    await send({"type": "http.response.body", "body": b"", "more_body": False})
