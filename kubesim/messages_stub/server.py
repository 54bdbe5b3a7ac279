"""Run the Messages API stub on loopback under Trio with Hypercorn.

Resource handling: the server lives in the caller's nursery and stops when the context
manager exits (or the shutdown trigger fires); open connections get `GRACE_SECONDS` to finish.
Only loopback addresses are accepted, so a test can never expose the stub.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import cast

import hypercorn.config
import hypercorn.trio
import hypercorn.typing
import trio

from kubesim.messages_stub import app as stub_app
from kubesim.messages_stub import replies

GRACE_SECONDS = 1.0
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class MessagesStub:
    """A running stub: its base URL (for ANTHROPIC_BASE_URL) and the app holding the record."""

    url: str
    app: stub_app.MessagesApp

    @property
    def requests(self) -> list[stub_app.RecordedRequest]:
        """Every request seen so far, secrets redacted."""
        return self.app.requests

    def message_requests(self) -> list[stub_app.RecordedRequest]:
        """The `POST /v1/messages` calls seen so far."""
        return self.app.message_requests()


def check_loopback(host: str) -> None:
    """Raise ValueError unless `host` is a loopback name or address."""
    if host in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"messages stub binds to loopback only, not {host!r}")


def _config(host: str, port: int) -> hypercorn.config.Config:
    config = hypercorn.config.Config()
    bind_host = f"[{host}]" if ":" in host else host
    config.bind = [f"{bind_host}:{port}"]
    config.graceful_timeout = GRACE_SECONDS
    config.accesslog = None  # our own log line per request leaves the headers out
    config.errorlog = logging.getLogger("kubesim.messages_stub.hypercorn")
    return config


async def serve(
    app: stub_app.MessagesApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` until `shutdown_trigger` returns; `task_status.started` gets the base URL.

    Raises:
        ValueError: `host` is not a loopback address.
    """
    check_loopback(host)
    config = _config(host, port)

    async with trio.open_nursery() as nursery:
        # The app speaks plain-dict ASGI; hypercorn's TypedDict signature says the same.
        framework = cast(hypercorn.typing.Framework, app)
        binds: list[str] = await nursery.start(
            partial(hypercorn.trio.serve, framework, config, shutdown_trigger=shutdown_trigger)
        )
        task_status.started(binds[0])


@asynccontextmanager
async def open_messages_stub(
    script: replies.Script, *, host: str = "127.0.0.1", port: int = 0, seed: int = 0
) -> AsyncIterator[MessagesStub]:
    """Start a stub answering from `script`; it stops when the block exits.

    Usage::

        async with open_messages_stub(Script.tool("echo hi")) as stub:
            cli = real_claude.real_claude(stub.url, home=home)
    """
    check_loopback(host)  # here too, so the error is not wrapped in the nursery's group
    app = stub_app.MessagesApp(script=script, seed=seed)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        url: str = await nursery.start(partial(serve, app, host=host, port=port,
                                               shutdown_trigger=stop.wait))
        try:
            yield MessagesStub(url=url, app=app)
        finally:
            stop.set()
