"""The write side of the API: start a run, cancel it, prune finished runs.

Each command is idempotent: posting the same run twice returns the first one (200, never a
second Job), cancelling twice records one cancel, pruning twice removes nothing the second time.
A command answers only once its fact is durable in the log (design invariant 1).
"""

from __future__ import annotations

import logging

import trio

from events import replay
from supervisor import logs, runspec
from supervisor.api import asgi, errors, retention, schemas
from supervisor.api.context import ApiContext
from supervisor.api.queries import find_run
from supervisor.engine.supervisor import RunConflict

_log = logging.getLogger(__name__)


async def create_run(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``POST /v1/runs`` — 201 with the new run, 200 with the existing one, 409 on a conflict."""
    req.check_query(set())
    body = await req.body(limit=ctx.max_request_bytes)
    try:
        request = runspec.decode_run_request(body, max_prompt_bytes=ctx.max_prompt_bytes)
    except runspec.RequestError as exc:
        status = 413 if exc.code == runspec.PROMPT_TOO_LARGE else 400
        raise errors.ApiError(status, exc.code, exc.message, exc.field) from exc
    try:
        run, created = await ctx.supervisor.submit(request, body)
    except RunConflict as exc:
        raise errors.ApiError(409, errors.RUN_CONFLICT, str(exc), "runId") from exc
    except trio.ClosedResourceError as exc:
        raise _stopping() from exc
    if created:
        _log.info("run.accepted", extra=logs.fields(run_id=request.run_id,
                                                    agent_id=request.agent.id))
    return asgi.json_response(201 if created else 200, {"run": replay.run_to_json(run)})


async def cancel_run(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``POST /v1/runs/{id}/cancel`` — records the cancel (once) and answers with the run."""
    req.check_query(set())
    run_id = req.params["run_id"]
    find_run(ctx, run_id)
    body = await req.body(limit=ctx.max_request_bytes)
    cancel = asgi.decode_json(body, schemas.CancelRequest, empty_ok=True)
    try:
        run = await ctx.supervisor.cancel(run_id, reason=cancel.reason, requested_by="api")
    except trio.ClosedResourceError as exc:
        raise _stopping() from exc
    _log.info("run.cancel_requested", extra=logs.fields(run_id=run_id, reason=cancel.reason))
    return asgi.json_response(200, {"run": replay.run_to_json(run)})


async def prune(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``POST /v1/prune`` — remove whole runs that ended more than ``olderThanSec`` ago."""
    req.check_query(set())
    body = await req.body(limit=ctx.max_request_bytes)
    request = asgi.decode_json(body, schemas.PruneRequest)
    async with ctx.prune_lock:
        try:
            outcome = await retention.prune(ctx.supervisor, ctx.reader,
                                            older_than=request.older_than_sec,
                                            dry_run=request.dry_run)
        except trio.ClosedResourceError as exc:
            raise _stopping() from exc
    _log.info("runs.pruned", extra=logs.fields(runs=len(outcome.run_ids),
                                               events_removed=outcome.events_removed,
                                               dry_run=request.dry_run))
    return asgi.json_response(200, outcome)


def _stopping() -> errors.ApiError:
    return errors.ApiError(503, errors.UNAVAILABLE, "the daemon is stopping; try again shortly")
