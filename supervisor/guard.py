"""The per-agent concurrency guard: may a new run start, must it adopt a live Job, or is it blocked?

Why this module exists: two live Claude runs of one agent would fight over the same workspace and
session, and a Job left behind by a crashed Paperclip or supervisor may still be doing real work
for this very task. The decision is a pure function over the agent's Job objects so every branch
is testable; the caller lists the Jobs (and fails closed when it cannot), then acts on the result.

Rules (reference section 3):
* Jobs being deleted (``metadata.deletionTimestamp``) and finished Jobs (a ``Complete``, ``Failed``,
  ``SuccessCriteriaMet`` or ``FailureTarget`` condition with status ``True``) are ignored.
* A live Job of *this* run blocks (``k8s_concurrent_run_blocked``).
* Live Jobs of other runs are orphans. With reattaching disabled any orphan blocks. Otherwise,
  newest first: an orphan without a task id on either side blocks (``k8s_orphan_task_unknown``),
  one on another task blocks (``k8s_concurrent_run_blocked``), one on this task with a different
  session blocks (``k8s_orphan_session_mismatch``); one on this task with the same or a missing
  session can be adopted. The newest adoptable orphan is chosen, but every orphan is still
  examined, so a later blocking one still blocks.
* Nothing is ever deleted here.

Ids are compared as sanitised label values (the Jobs carry sanitised labels); sanitising is
idempotent, so callers may pass raw ids or labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from supervisor import labels
from supervisor.k8s import manifests

CONCURRENT_RUN_BLOCKED = "k8s_concurrent_run_blocked"
ORPHAN_TASK_UNKNOWN = "k8s_orphan_task_unknown"
ORPHAN_SESSION_MISMATCH = "k8s_orphan_session_mismatch"

_TERMINAL_CONDITIONS = frozenset({"Complete", "Failed", "SuccessCriteriaMet", "FailureTarget"})
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Proceed:
    """No live Job stands in the way: create the run's Job."""


@dataclass(frozen=True)
class Reattach:
    """Adopt this live orphan instead of creating a Job."""

    job: Mapping[str, Any]
    job_name: str
    namespace: str | None
    prior_run_id: str | None
    tee_log_path: str | None
    """The file the orphan's pod tees to (its own run's path, not the adopting run's)."""


@dataclass(frozen=True)
class Block:
    """The run must not start; ``code`` and ``message`` go back to the caller."""

    code: str
    message: str
    job_names: tuple[str, ...]


Decision = Proceed | Reattach | Block


def is_live(job: Mapping[str, Any]) -> bool:
    """True for a Job that is neither being deleted nor finished."""
    metadata = job.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return False
    conditions = (job.get("status") or {}).get("conditions") or []
    return not any(
        c.get("type") in _TERMINAL_CONDITIONS and c.get("status") == "True" for c in conditions
    )


def decide(
    jobs: Iterable[Mapping[str, Any]],
    *,
    run_id: str,
    task_key: str | None,
    session_id: str | None,
    reattach_orphaned_jobs: bool,
) -> Decision:
    """Decide what a new run of an agent may do, given that agent's Jobs.

    Args:
        jobs: Job objects (dicts as the API returns them) labelled with the agent's id.
        run_id: the new run's id.
        task_key: its task (raw or label form), or None.
        session_id: the Claude session it resumes (raw or label form), or None.
        reattach_orphaned_jobs: the agent's ``reattachOrphanedJobs`` setting.
    """
    live = [job for job in jobs if is_live(job)]
    same_run = [job for job in live if _is_same_run(job, run_id)]
    orphans = [job for job in live if not _is_same_run(job, run_id)]

    if orphans and not reattach_orphaned_jobs:
        return Block(
            CONCURRENT_RUN_BLOCKED,
            "Concurrent run blocked: orphaned Job(s) still running for this agent"
            " (reattach disabled)",
            _names(orphans),
        )
    target: Mapping[str, Any] | None = None
    for orphan in sorted(orphans, key=_created_at, reverse=True):
        blocked = _classify(orphan, task_key=task_key, session_id=session_id)
        if blocked is not None:
            return blocked
        if target is None:
            target = orphan
    if same_run:
        names = _names(same_run)
        return Block(
            CONCURRENT_RUN_BLOCKED,
            f"Concurrent run blocked: Job {', '.join(names)} is still running for this agent",
            names,
        )
    if target is None:
        return Proceed()
    metadata = target.get("metadata") or {}
    return Reattach(
        job=target,
        job_name=str(metadata.get("name") or ""),
        namespace=metadata.get("namespace"),
        prior_run_id=manifests.job_run_id(target),
        tee_log_path=manifests.tee_log_path_of(target),
    )


def _classify(
    orphan: Mapping[str, Any], *, task_key: str | None, session_id: str | None
) -> Block | None:
    job_labels = (orphan.get("metadata") or {}).get("labels") or {}
    name = (orphan.get("metadata") or {}).get("name") or "<unnamed>"
    current_task = _label(task_key)
    orphan_task = _label(job_labels.get(labels.LABEL_TASK_ID))
    if current_task is None or orphan_task is None:
        return Block(
            ORPHAN_TASK_UNKNOWN,
            f"Concurrent run blocked: orphaned Job {name} has unknown task context",
            (name,),
        )
    if current_task != orphan_task:
        return Block(
            CONCURRENT_RUN_BLOCKED,
            f"Concurrent run blocked: orphaned Job {name} is running a different task",
            (name,),
        )
    current_session = _label(session_id)
    orphan_session = _label(job_labels.get(labels.LABEL_SESSION_ID))
    if current_session and orphan_session and current_session != orphan_session:
        return Block(
            ORPHAN_SESSION_MISMATCH,
            f"Concurrent run blocked: orphaned Job {name} has a mismatched session",
            (name,),
        )
    return None


def _is_same_run(job: Mapping[str, Any], run_id: str) -> bool:
    metadata = job.get("metadata") or {}
    annotated = (metadata.get("annotations") or {}).get(labels.ANNOTATION_RUN_ID)
    if annotated:  # the raw id: exact, immune to two ids sanitising alike
        return bool(annotated == run_id)
    labelled = (metadata.get("labels") or {}).get(labels.LABEL_RUN_ID)
    # The label is sanitised (and the seed adapter wrote some raw): compare both forms (B.9).
    return labelled is not None and _label(labelled) == _label(run_id)


def _label(value: Any) -> str | None:
    return labels.sanitize_label_value(value) if isinstance(value, str) else None


def _created_at(job: Mapping[str, Any]) -> datetime:
    stamp = (job.get("metadata") or {}).get("creationTimestamp")
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    if isinstance(stamp, str):
        try:
            parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return _OLDEST
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _OLDEST


def _names(jobs: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(str((job.get("metadata") or {}).get("name") or "<unnamed>") for job in jobs)
