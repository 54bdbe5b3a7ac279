"""A small client for the daemon's socket API, async (Trio) and sync (the command line).

Why this module exists: tests, the CLI and any Python caller speak to the daemon the same way —
httpx over the Unix socket, errors raised as :class:`~supervisor.api.errors.ApiError` with the
server's code and message, a daemon that is not there as :class:`DaemonUnreachable`. Each call
is described once (:class:`Call`); the two clients only differ in how they send it.

Following a run's events survives a daemon restart: :meth:`SupervisorClient.follow_events`
reconnects with the last seq it saw, so the caller gets every event exactly once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import httpx
import msgspec
import trio

from supervisor.api import errors, schemas

BASE_URL = "http://paperclip-supervisor"
DEFAULT_TIMEOUT = 30.0
# How long follow_events keeps trying to reach a daemon that went away (e.g. restarting).
DEFAULT_RECONNECT_FOR = 30.0
_RECONNECT_DELAY = 0.25
_decoder = msgspec.json.Decoder()


class DaemonUnreachable(Exception):
    """Nothing answers on the socket (no daemon, wrong path, or no permission)."""

    def __init__(self, socket_path: str, reason: str) -> None:
        super().__init__(f"cannot reach the daemon on {socket_path}: {reason}")
        self.socket_path = socket_path
        self.reason = reason


class Call(msgspec.Struct, frozen=True):
    """One API call: the request to send and the statuses that count as an answer."""

    method: str
    path: str
    params: dict[str, str] = {}
    body: bytes | None = None
    ok: tuple[int, ...] = (200,)


def _json(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else schemas.encoder.encode(payload)


def _filters(**values: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return out


# --- the calls --------------------------------------------------------------------------------


def start_run_call(body: Mapping[str, Any] | bytes) -> Call:
    return Call("POST", "/v1/runs", body=_json(body), ok=(200, 201))


def list_runs_call(*, agent: str | None = None, active: bool | None = None,
                   phase: str | None = None) -> Call:
    return Call("GET", "/v1/runs", params=_filters(agent=agent, active=active, phase=phase))


def get_run_call(run_id: str) -> Call:
    return Call("GET", f"/v1/runs/{_segment(run_id)}")


def result_call(run_id: str) -> Call:
    return Call("GET", f"/v1/runs/{_segment(run_id)}/result")


def cancel_call(run_id: str, reason: str = "") -> Call:
    return Call("POST", f"/v1/runs/{_segment(run_id)}/cancel", body=_json({"reason": reason}))


def prune_call(older_than_sec: float, *, dry_run: bool = False) -> Call:
    return Call("POST", "/v1/prune",
                body=_json({"olderThanSec": older_than_sec, "dryRun": dry_run}))


def health_call() -> Call:
    return Call("GET", "/v1/healthz", ok=(200, 503))


def version_call() -> Call:
    return Call("GET", "/v1/version")


def metrics_call() -> Call:
    return Call("GET", "/v1/metrics")


def events_call(run_id: str | None = None, *, after: int = 0, follow: bool = False,
                kinds: tuple[str, ...] | None = None) -> Call:
    path = "/v1/events" if run_id is None else f"/v1/runs/{_segment(run_id)}/events"
    params = _filters(after=after, follow=follow)
    if kinds:
        params["kinds"] = ",".join(kinds)
    return Call("GET", path, params=params)


def _segment(run_id: str) -> str:
    from urllib.parse import quote

    return quote(run_id, safe="")


def raise_for_answer(call: Call, status: int, content: bytes) -> None:
    """Raise the server's error as :class:`ApiError` unless ``status`` is an answer."""
    if status in call.ok:
        return
    try:
        body = msgspec.json.decode(content, type=schemas.ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = content.decode("utf-8", errors="replace").strip()[:200]
        raise errors.ApiError(status, "http_error", f"HTTP {status}: {text}") from None
    detail = body.error
    raise errors.ApiError(status, detail.code, detail.message, detail.field)


def decode(content: bytes) -> Any:
    return _decoder.decode(content)


# --- the sync client --------------------------------------------------------------------------


class SupervisorClient:
    """Blocking client (for the command line).

    Args:
        socket_path: the daemon's Unix socket.
        timeout: seconds for connecting and for each read (streams wait without limit).
        transport: replaces the Unix-socket transport (tests).
    """

    def __init__(self, socket_path: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.socket_path = socket_path
        self._http = httpx.Client(
            base_url=BASE_URL, timeout=timeout,
            transport=transport or httpx.HTTPTransport(uds=socket_path))

    def __enter__(self) -> SupervisorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call) -> tuple[int, bytes]:
        """Send one call; returns (status, body) for an answer, raises otherwise."""
        try:
            response = self._http.request(call.method, call.path, params=call.params,
                                          content=call.body)
        except httpx.TransportError as exc:
            raise DaemonUnreachable(self.socket_path, _reason(exc)) from exc
        raise_for_answer(call, response.status_code, response.content)
        return response.status_code, response.content

    def json(self, call: Call) -> Any:
        return decode(self.send(call)[1])

    def start_run(self, body: Mapping[str, Any] | bytes) -> tuple[dict[str, Any], bool]:
        """Returns the run and whether it was created (False: it existed already)."""
        status, content = self.send(start_run_call(body))
        return decode(content)["run"], status == 201

    def list_runs(self, **filters: Any) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.json(list_runs_call(**filters))["runs"]
        return runs

    def get_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.json(get_run_call(run_id))["run"]
        return run

    def result(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.json(result_call(run_id))
        return result

    def cancel(self, run_id: str, reason: str = "") -> dict[str, Any]:
        run: dict[str, Any] = self.json(cancel_call(run_id, reason))["run"]
        return run

    def prune(self, older_than_sec: float, *, dry_run: bool = False) -> dict[str, Any]:
        outcome: dict[str, Any] = self.json(prune_call(older_than_sec, dry_run=dry_run))
        return outcome

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = self.json(health_call())
        return body

    def version(self) -> dict[str, Any]:
        body: dict[str, Any] = self.json(version_call())
        return body

    def events(self, run_id: str | None = None, *, after: int = 0, follow: bool = False,
               kinds: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
        """Events in seq order from one connection; ends when the server ends the stream.

        Raises:
            DaemonUnreachable: the connection could not be made, or broke mid-stream.
        """
        call = events_call(run_id, after=after, follow=follow, kinds=kinds)
        try:
            with self._http.stream(call.method, call.path, params=call.params,
                                   timeout=httpx.Timeout(self._http.timeout.connect,
                                                         read=None)) as response:
                if response.status_code != 200:
                    response.read()
                    raise_for_answer(call, response.status_code, response.content)
                for line in response.iter_lines():
                    if line:
                        yield decode(line.encode())
        except httpx.TransportError as exc:
            raise DaemonUnreachable(self.socket_path, _reason(exc)) from exc

    def follow_events(self, run_id: str, *, after: int = 0,
                      kinds: tuple[str, ...] | None = None,
                      reconnect_for: float = DEFAULT_RECONNECT_FOR,
                      on_wait: Callable[[str], None] | None = None,
                      ) -> Iterator[dict[str, Any]]:
        """Every event of a run until it has finished, across reconnects (no dup, no gap).

        Raises:
            DaemonUnreachable: the daemon stayed unreachable for ``reconnect_for`` seconds.
        """
        cursor = after
        unreachable_since: float | None = None
        while True:
            try:
                for event in self.events(run_id, after=cursor, follow=True, kinds=kinds):
                    unreachable_since = None
                    cursor = event["seq"]
                    yield event
                    if event["kind"] == "run.finished":
                        return
                unreachable_since = None
                # Ended without run.finished (filtered out, or the daemon is stopping).
                if self.get_run(run_id)["phase"] in _TERMINAL:
                    return
                reason = "the stream ended before the run did"
            except DaemonUnreachable as exc:
                now = time.monotonic()
                unreachable_since = unreachable_since or now
                if now - unreachable_since > reconnect_for:
                    raise
                reason = exc.reason
            if on_wait is not None:
                on_wait(f"reconnecting to the daemon after seq {cursor} ({reason})")
            time.sleep(_RECONNECT_DELAY)


_TERMINAL = frozenset({"succeeded", "failed", "cancelled", "lost"})


def _reason(exc: httpx.TransportError) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc) or type(exc).__name__
    return text


# --- the async client -------------------------------------------------------------------------


class AsyncSupervisorClient:
    """Non-blocking client for Trio code (and tests); same calls as :class:`SupervisorClient`."""

    def __init__(self, socket_path: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.socket_path = socket_path
        self._http = httpx.AsyncClient(
            base_url=BASE_URL, timeout=timeout,
            transport=transport or httpx.AsyncHTTPTransport(uds=socket_path))

    async def __aenter__(self) -> AsyncSupervisorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call) -> tuple[int, bytes]:
        try:
            response = await self._http.request(call.method, call.path, params=call.params,
                                                content=call.body)
        except httpx.TransportError as exc:
            raise DaemonUnreachable(self.socket_path, _reason(exc)) from exc
        raise_for_answer(call, response.status_code, response.content)
        return response.status_code, response.content

    async def json(self, call: Call) -> Any:
        return decode((await self.send(call))[1])

    async def start_run(self, body: Mapping[str, Any] | bytes) -> tuple[dict[str, Any], bool]:
        status, content = await self.send(start_run_call(body))
        return decode(content)["run"], status == 201

    async def list_runs(self, **filters: Any) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = (await self.json(list_runs_call(**filters)))["runs"]
        return runs

    async def get_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = (await self.json(get_run_call(run_id)))["run"]
        return run

    async def result(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.json(result_call(run_id))
        return result

    async def cancel(self, run_id: str, reason: str = "") -> dict[str, Any]:
        run: dict[str, Any] = (await self.json(cancel_call(run_id, reason)))["run"]
        return run

    async def prune(self, older_than_sec: float, *, dry_run: bool = False) -> dict[str, Any]:
        outcome: dict[str, Any] = await self.json(prune_call(older_than_sec, dry_run=dry_run))
        return outcome

    async def health(self) -> dict[str, Any]:
        body: dict[str, Any] = await self.json(health_call())
        return body

    async def version(self) -> dict[str, Any]:
        body: dict[str, Any] = await self.json(version_call())
        return body

    async def metrics(self) -> str:
        return (await self.send(metrics_call()))[1].decode()

    @contextlib.asynccontextmanager
    async def events(self, run_id: str | None = None, *, after: int = 0, follow: bool = False,
                     kinds: tuple[str, ...] | None = None) -> AsyncIterator[EventStream]:
        """Open an event stream: ``async with client.events(...) as events: async for e in …``.

        The stream ends when the server ends it; leaving the block early closes the connection.
        Errors (:class:`~supervisor.api.errors.ApiError`, :class:`DaemonUnreachable`) are raised
        by the iteration.
        """
        call = events_call(run_id, after=after, follow=follow, kinds=kinds)
        send, receive = trio.open_memory_channel[dict[str, Any] | Exception](0)
        failure: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump, call, send)
            try:
                yield EventStream(receive)
            except Exception as exc:  # raised again below, not wrapped in an ExceptionGroup
                failure = exc
            finally:
                # Cancelling the reader unwinds httpx's response iterators cleanly.
                nursery.cancel_scope.cancel(reason="event stream closed")
        if failure is not None:
            raise failure

    async def _pump(self, call: Call,
                    send: trio.MemorySendChannel[dict[str, Any] | Exception]) -> None:
        async with send:
            try:
                async with self._http.stream(
                        call.method, call.path, params=call.params,
                        timeout=httpx.Timeout(self._http.timeout.connect, read=None)) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise_for_answer(call, response.status_code, response.content)
                    async for line in response.aiter_lines():
                        if line:
                            await send.send(decode(line.encode()))
            except httpx.TransportError as exc:
                await send.send(DaemonUnreachable(self.socket_path, _reason(exc)))
            except errors.ApiError as exc:
                await send.send(exc)


class EventStream:
    """The events of one open stream, as an async iterator of decoded dicts."""

    def __init__(self, receive: trio.MemoryReceiveChannel[dict[str, Any] | Exception]) -> None:
        self._receive = receive

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            item = await self._receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None
        if isinstance(item, Exception):
            raise item
        return item

    async def collect(self) -> list[dict[str, Any]]:
        """Every remaining event (for streams that end: not following)."""
        return [event async for event in self]
