"""NDJSON event streams: ``GET /v1/runs/{id}/events`` and ``GET /v1/events``.

Why this module exists: a stream is read from the event log itself — never from the log
followers or any in-memory buffer — through the store's reader connections in worker threads.
So a slow or stuck client only ever holds up its own response (it sends nothing more until the
client reads), never log ingestion or other clients; and a client far behind simply catches up
from the log. ``after=<seq>`` makes reconnection exact: each event has one global ``seq``, so a
client that reconnects with the last seq it saw gets no duplicate and no gap.

With ``follow=1`` a run's stream waits for new events (woken by the writer after each commit)
and ends once the run's ``run.finished`` event has been sent; ``GET /v1/events?follow=1`` goes on
until the client leaves or the daemon stops.
"""

from __future__ import annotations

import functools

from events import codec, types
from supervisor.api import asgi, errors, schemas
from supervisor.api.context import ApiContext, OpenStream

PAGE = 500  # events per read from the log
FLUSH_BYTES = 64 * 1024  # send what is buffered once it reaches this size
_QUERY = {"after", "follow", "kinds"}
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no", "")


async def run_events(ctx: ApiContext, req: asgi.Request) -> asgi.StreamResponse:
    """One run's events, in seq order, optionally following it until it ends."""
    run_id = req.params["run_id"]
    after, follow, kinds = _parse_query(req)
    if run_id not in ctx.supervisor.state.runs:
        raise errors.ApiError(404, errors.RUN_NOT_FOUND, f"no run {run_id!r}", "runId")
    return asgi.StreamResponse(functools.partial(
        _pump, ctx, run_id=run_id, after=after, follow=follow, kinds=kinds))


async def all_events(ctx: ApiContext, req: asgi.Request) -> asgi.StreamResponse:
    """Every event of the daemon (like ``docker events``), optionally following."""
    after, follow, kinds = _parse_query(req)
    return asgi.StreamResponse(functools.partial(
        _pump, ctx, run_id=None, after=after, follow=follow, kinds=kinds))


def _parse_query(req: asgi.Request) -> tuple[int, bool, tuple[str, ...] | None]:
    req.check_query(_QUERY)
    after_text = req.query_value("after") or "0"
    if not after_text.isdigit():
        raise errors.ApiError(400, errors.INVALID_REQUEST,
                              f"after: expected a seq (an integer >= 0), got {after_text!r}",
                              "after")
    follow_text = (req.query_value("follow") or "").lower()
    if follow_text not in _TRUE + _FALSE:
        raise errors.ApiError(400, errors.INVALID_REQUEST,
                              f"follow: expected 1 or 0, got {follow_text!r}", "follow")
    kinds: tuple[str, ...] | None = None
    kinds_text = req.query_value("kinds")
    if kinds_text:
        kinds = tuple(k.strip() for k in kinds_text.split(",") if k.strip())
        for kind in kinds:
            if kind not in types.EVENT_CLASSES:
                raise errors.ApiError(
                    400, errors.INVALID_REQUEST,
                    f"kinds: unknown event kind {kind!r} (known: "
                    f"{', '.join(sorted(types.EVENT_CLASSES))})", "kinds")
    return int(after_text), follow_text in _TRUE, kinds


async def _pump(ctx: ApiContext, emit: asgi.Emit, *, run_id: str | None, after: int,
                follow: bool, kinds: tuple[str, ...] | None) -> None:
    with ctx.streams.track(run_id, after) as stream:
        while True:
            folded = ctx.supervisor.state
            if run_id is None:
                finished, newest = False, folded.last_seq
            else:
                run = folded.runs.get(run_id)
                if run is None:  # pruned while being followed: nothing more will come
                    return
                # Seen before reading: if the run was already over, this read includes its
                # run.finished event, and the stream may end after it.
                finished, newest = run.terminal, run.last_seq
            if newest > stream.cursor:
                await _send_range(ctx, emit, stream, newest=newest, kinds=kinds)
            if not follow or finished:
                return
            await _wait_past(ctx, run_id, stream.cursor)


async def _send_range(ctx: ApiContext, emit: asgi.Emit, stream: OpenStream, *, newest: int,
                      kinds: tuple[str, ...] | None) -> None:
    """Send the stream's events with ``cursor < seq <= newest`` (all durable), page by page."""
    while stream.cursor < newest:
        page = await ctx.reader.read(stream.cursor, until=newest, run_id=stream.run_id,
                                     kinds=kinds, limit=PAGE)
        buffer: list[bytes] = []
        size = 0
        for stored in page:
            line = schemas.encoder.encode(codec.event_to_json(stored)) + b"\n"
            buffer.append(line)
            size += len(line)
            if size >= FLUSH_BYTES:
                await emit(b"".join(buffer))
                buffer, size = [], 0
                stream.cursor = stored.seq
        if buffer:
            await emit(b"".join(buffer))
        # A short page means nothing else up to `newest` matches (kinds may skip some).
        stream.cursor = page[-1].seq if len(page) == PAGE else newest


async def _wait_past(ctx: ApiContext, run_id: str | None, cursor: int) -> None:
    """Wait until the log holds something newer than ``cursor`` for this stream."""
    sup = ctx.supervisor
    while True:
        folded = sup.state
        if run_id is None:
            if folded.last_seq > cursor:
                return
        else:
            run = folded.runs.get(run_id)
            if run is None or run.last_seq > cursor:
                return
        # Wakes after any commit; other runs' events just loop back here.
        await sup.writer.wait_appended(folded.last_seq)
