"""The read side of the API: runs, one run, its result, health, metrics, version. No writes.

Run state comes from the fold the writer keeps current (design invariant 2), so a read never
touches the database except the health check's.
"""

from __future__ import annotations

import os
import shutil
import time

import trio

from events import replay, state, types
from supervisor import __version__
from supervisor.api import asgi, errors, metrics, schemas
from supervisor.api.context import ApiContext

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")
# Below this much free space next to the log, the daemon reports itself unhealthy.
MIN_FREE_BYTES = 16 * 1024 * 1024


def find_run(ctx: ApiContext, run_id: str) -> state.RunState:
    """The run's folded state, or a 404 naming the id."""
    run = ctx.supervisor.state.runs.get(run_id)
    if run is None:
        raise errors.ApiError(404, errors.RUN_NOT_FOUND, f"no run {run_id!r}", "runId")
    return run


async def list_runs(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``GET /v1/runs?agent=&active=&phase=`` — every run, oldest first, filtered."""
    req.check_query({"agent", "active", "phase"})
    agent = req.query_value("agent")
    active_text = (req.query_value("active") or "").lower()
    if active_text and active_text not in _TRUE + _FALSE:
        raise errors.ApiError(400, errors.INVALID_REQUEST,
                              f"active: expected 1 or 0, got {active_text!r}", "active")
    phases: set[str] | None = None
    phase_text = req.query_value("phase")
    if phase_text:
        phases = {p.strip() for p in phase_text.split(",") if p.strip()}
        unknown = phases - set(state.PHASES)
        if unknown:
            raise errors.ApiError(
                400, errors.INVALID_REQUEST,
                f"phase: unknown phase {sorted(unknown)[0]!r} (one of {', '.join(state.PHASES)})",
                "phase")
    runs = sorted(ctx.supervisor.state.runs.values(), key=lambda r: r.first_seq)
    selected = [
        replay.run_to_json(run) for run in runs
        if (agent is None or run.agent_id == agent)
        and (not active_text or (not run.terminal) == (active_text in _TRUE))
        and (phases is None or run.phase in phases)
    ]
    return asgi.json_response(200, {"runs": selected})


async def get_run(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    req.check_query(set())
    return asgi.json_response(200, {"run": replay.run_to_json(find_run(ctx, req.params["run_id"]))})


async def get_result(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``GET /v1/runs/{id}/result`` — 409 until the run is terminal."""
    req.check_query(set())
    run = find_run(ctx, req.params["run_id"])
    if not run.terminal:
        raise errors.ApiError(
            409, errors.RUN_NOT_TERMINAL,
            f"run {run.run_id!r} is {run.phase}; its result exists once it has ended "
            f"(one of {', '.join(sorted(state.TERMINAL_PHASES))})", "runId")
    return asgi.json_response(200, result_body(run))


def result_body(run: state.RunState) -> schemas.RunResultBody:
    """The result fields from the parsed result, falling back to the run's own state."""
    result = run.result or state.RunResult()
    exit_code = result.exit_code if result.exit_code is not None else run.exit_code
    return schemas.RunResultBody(
        run_id=run.run_id, phase=run.phase, exit_code=exit_code, signal=result.signal,
        timed_out=result.timed_out,
        error_code=run.error_code or result.error_code or None,
        error_message=run.error_message or result.error_message or None,
        session_id=result.session_id or run.session_id or None, model=result.model or None,
        usage=result.usage, cost_usd=result.cost_usd, summary=result.summary or None,
        result_json=result.result_json, clear_session=result.clear_session)


async def health(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``GET /v1/healthz`` — 200 when the log is writable and the cluster reachable, else 503."""
    req.check_query(set())
    sup = ctx.supervisor
    db = await trio.to_thread.run_sync(_db_health, ctx.db_path)
    if db.ok and sup.started_at is None:
        db = schemas.ComponentHealth(ok=False, detail="recovery has not finished")
    if ctx.cluster_probe is None:
        cluster = schemas.ComponentHealth(ok=True, detail="no cluster client configured")
    else:
        cluster = await ctx.cluster_probe()
    rbac = await ctx.rbac_probe() if ctx.rbac_probe is not None and cluster.ok else None
    body = schemas.HealthBody(
        ok=db.ok and cluster.ok and (rbac is None or rbac.ok), version=__version__, db=db,
        cluster=cluster, rbac=rbac,
        active_runs=len(sup.active_runs()), last_seq=sup.state.last_seq,
        uptime_sec=round(time.monotonic() - ctx.started_monotonic, 3))
    return asgi.json_response(200 if body.ok else 503, body)


def _db_health(path: str) -> schemas.ComponentHealth:
    directory = os.path.dirname(os.path.abspath(path))
    for target in (path, directory):
        if not os.access(target, os.W_OK):
            return schemas.ComponentHealth(ok=False, detail=f"{target} is not writable")
    free = shutil.disk_usage(directory).free
    if free < MIN_FREE_BYTES:
        return schemas.ComponentHealth(
            ok=False, detail=f"only {free // 1024} KiB free in {directory}")
    return schemas.ComponentHealth(ok=True, detail=f"{free // (1024 * 1024)} MiB free")


async def get_metrics(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    """``GET /v1/metrics`` — Prometheus text exposition."""
    req.check_query(set())
    return asgi.Response(200, metrics.render(ctx).encode(),
                         content_type=schemas.PROMETHEUS_TEXT)


async def version(ctx: ApiContext, req: asgi.Request) -> asgi.Response:
    req.check_query(set())
    return asgi.json_response(200, schemas.VersionBody(
        version=__version__, api=schemas.API_VERSION, event_schema=types.SCHEMA_VERSION))
