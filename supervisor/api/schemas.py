"""The wire contract of ``/v1``: request and response bodies, shared by the server and the client.

Run state and event bodies are the shapes the event log's own views produce
(:func:`events.replay.run_to_json`, :func:`events.codec.event_to_json`) so ``replay --format
json``, the API and the NDJSON streams agree. Request bodies here are decoded strictly: an
unknown field is an error naming it. ``POST /v1/runs`` bodies are :mod:`supervisor.runspec`'s.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

API_VERSION = "v1"
PREFIX = "/" + API_VERSION
JSON = "application/json"
NDJSON = "application/x-ndjson"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

_Positive = Annotated[float, msgspec.Meta(gt=0)]


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class ErrorBody(msgspec.Struct, frozen=True):
    """``{"error": {"code", "message", "field"?}}``: every 4xx/5xx answer."""

    error: ErrorDetail


class CancelRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    """Optional body of ``POST /v1/runs/{id}/cancel``."""

    reason: str = ""


class PruneRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    """Body of ``POST /v1/prune``: remove whole runs that ended more than ``olderThanSec`` ago."""

    older_than_sec: _Positive
    dry_run: bool = False


class PruneResponse(msgspec.Struct, frozen=True, rename="camel"):
    finished_before: str
    """RFC3339: runs whose last event is older than this were removed."""
    run_ids: list[str]
    events_removed: int
    dry_run: bool
    seq: int | None
    """The ``runs.pruned`` event recording the prune (None for a dry run or nothing removed)."""


class RunResultBody(msgspec.Struct, frozen=True, rename="camel"):
    """``GET /v1/runs/{id}/result``: what Paperclip's execution result needs."""

    run_id: str
    phase: str
    exit_code: int | None
    signal: int | None
    timed_out: bool
    error_code: str | None
    error_message: str | None
    session_id: str | None
    model: str | None
    usage: dict[str, Any]
    cost_usd: float | None
    summary: str | None
    result_json: dict[str, Any] | None
    clear_session: bool


class ComponentHealth(msgspec.Struct, frozen=True):
    ok: bool
    detail: str = ""


class HealthBody(msgspec.Struct, frozen=True, rename="camel"):
    """``GET /v1/healthz``: 200 when everything is ok, 503 otherwise (same body)."""

    ok: bool
    version: str
    db: ComponentHealth
    cluster: ComponentHealth
    active_runs: int
    last_seq: int
    uptime_sec: float
    rbac: ComponentHealth | None = None
    """Permission checks (SelfSubjectAccessReview); absent without a cluster."""


class VersionBody(msgspec.Struct, frozen=True, rename="camel"):
    version: str
    api: str
    event_schema: int


encoder = msgspec.json.Encoder()


def error_body(code: str, message: str, field: str | None = None) -> bytes:
    """The encoded ``{"error": …}`` body."""
    return encoder.encode(ErrorBody(ErrorDetail(code=code, message=message, field=field)))
