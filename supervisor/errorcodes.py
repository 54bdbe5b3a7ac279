"""Every error code the supervisor can report for a run, with what each one means.

A run's result carries at most one of these codes (success carries none). The strings are a wire
contract: Paperclip stores them on the run row, its retry and continuation logic keys on some of
them (`timeout`, `max_turns_exhausted`, `claude_transient_upstream`), and operators grep for
them. So a code is never renamed or reused for a different meaning; new ones are only added.

The `k8s_*`, `timeout`, `session_unavailable`, `llm_api_error` and `claude_truncated` codes keep
the seed adapter's spellings; `max_turns_exhausted`, `claude_auth_required`,
`claude_transient_upstream` and `claude_refusal` are the spellings Paperclip's built-in
`claude_local` adapter uses, so the server's machinery treats our runs the same way.
"""

from __future__ import annotations

import enum

__all__ = ["ErrorCode", "markdown_table"]


class ErrorCode(enum.StrEnum):
    """A stable error code; `str(code)` is the wire value and `code.description` says what it means."""

    # --- the run was stopped from outside Claude ---
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"

    # --- Claude ran and reported a failure in its result event ---
    SESSION_UNAVAILABLE = "session_unavailable"
    MAX_TURNS_EXHAUSTED = "max_turns_exhausted"
    CLAUDE_AUTH_REQUIRED = "claude_auth_required"
    CLAUDE_TRANSIENT_UPSTREAM = "claude_transient_upstream"
    CLAUDE_REFUSAL = "claude_refusal"
    CLAUDE_FAILED = "claude_failed"

    # --- Claude produced no result event ---
    LLM_API_ERROR = "llm_api_error"
    CLAUDE_TRUNCATED = "claude_truncated"
    CLAUDE_NO_RESULT = "claude_no_result"

    # --- Kubernetes: before the run could start ---
    K8S_AGENT_ID_INVALID = "k8s_agent_id_invalid"
    K8S_CONCURRENCY_GUARD_UNREACHABLE = "k8s_concurrency_guard_unreachable"
    K8S_CONCURRENT_RUN_BLOCKED = "k8s_concurrent_run_blocked"
    K8S_ORPHAN_TASK_UNKNOWN = "k8s_orphan_task_unknown"
    K8S_ORPHAN_SESSION_MISMATCH = "k8s_orphan_session_mismatch"
    K8S_PROMPT_SECRET_CREATE_FAILED = "k8s_prompt_secret_create_failed"
    K8S_JOB_CREATE_FAILED = "k8s_job_create_failed"
    K8S_POD_SCHEDULE_FAILED = "k8s_pod_schedule_failed"
    K8S_POD_REATTACH_FAILED = "k8s_pod_reattach_failed"

    # --- Kubernetes: while or after the run was going ---
    K8S_JOB_STATE_MISMATCH = "k8s_job_state_mismatch"
    K8S_JOB_DELETED_EXTERNALLY = "k8s_job_deleted_externally"

    # --- the supervisor itself ---
    SUPERVISOR_ERROR = "supervisor_error"

    @property
    def description(self) -> str:
        """One line saying what the code means, for operators and the README."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[ErrorCode, str] = {
    # --- the run was stopped from outside Claude ---
    ErrorCode.CANCELLED: "The run was cancelled on request; its Job was deleted.",
    ErrorCode.TIMEOUT: "The run exceeded its timeout (Job deadline or supervisor deadline).",
    # --- Claude ran and reported a failure in its result event ---
    ErrorCode.SESSION_UNAVAILABLE: (
        "Claude could not resume the requested session; the session should be dropped."
    ),
    ErrorCode.MAX_TURNS_EXHAUSTED: (
        "Claude stopped after reaching --max-turns; the session should be dropped."
    ),
    ErrorCode.CLAUDE_AUTH_REQUIRED: (
        "Claude's API credentials were rejected or missing (HTTP 401 or a login prompt)."
    ),
    ErrorCode.CLAUDE_TRANSIENT_UPSTREAM: (
        "The model API was rate limited or overloaded (HTTP 429/5xx/529); retrying later may work."
    ),
    ErrorCode.CLAUDE_REFUSAL: "The model refused the request (stop_reason: refusal).",
    ErrorCode.CLAUDE_FAILED: (
        "Claude produced a result event that reports an error, or exited non-zero after one."
    ),
    # --- Claude produced no result event ---
    ErrorCode.LLM_API_ERROR: (
        "The model API returned an empty response (stop_reason null, no output tokens)."
    ),
    ErrorCode.CLAUDE_TRUNCATED: (
        "Claude produced output but the run ended before its result event (killed, OOM, evicted)."
    ),
    ErrorCode.CLAUDE_NO_RESULT: (
        "Claude ended without a result event and without any assistant output."
    ),
    # --- Kubernetes: before the run could start ---
    ErrorCode.K8S_AGENT_ID_INVALID: (
        "The agent id cannot be turned into a valid Kubernetes label value."
    ),
    ErrorCode.K8S_CONCURRENCY_GUARD_UNREACHABLE: (
        "Listing the agent's Jobs failed, so the concurrency guard failed closed."
    ),
    ErrorCode.K8S_CONCURRENT_RUN_BLOCKED: (
        "Another Job is still running for this agent and cannot be adopted."
    ),
    ErrorCode.K8S_ORPHAN_TASK_UNKNOWN: (
        "A running orphan Job or this run lacks a task id, so adoption cannot be decided."
    ),
    ErrorCode.K8S_ORPHAN_SESSION_MISMATCH: (
        "A running orphan Job for the same task uses a different Claude session."
    ),
    ErrorCode.K8S_PROMPT_SECRET_CREATE_FAILED: (
        "Creating the Secret that carries a large prompt failed."
    ),
    ErrorCode.K8S_JOB_CREATE_FAILED: "Creating the Kubernetes Job failed.",
    ErrorCode.K8S_POD_SCHEDULE_FAILED: (
        "The Job's pod never ran: unschedulable, image pull, init failure, crash loop or timeout."
    ),
    ErrorCode.K8S_POD_REATTACH_FAILED: "An adopted Job has no pod to follow.",
    # --- Kubernetes: while or after the run was going ---
    ErrorCode.K8S_JOB_STATE_MISMATCH: (
        "The output ended but the Job never reached a terminal state; the Job is kept."
    ),
    ErrorCode.K8S_JOB_DELETED_EXTERNALLY: (
        "The Job disappeared before Claude finished and no exit code could be read."
    ),
    # --- the supervisor itself ---
    ErrorCode.SUPERVISOR_ERROR: (
        "The supervisor failed to prepare or follow the run (bundle, manifest or API error)."
    ),
}


def markdown_table() -> str:
    """Render the catalogue as a Markdown table (`code | meaning`), in declaration order."""
    rows = ["| code | meaning |", "|---|---|"]
    rows.extend(f"| `{code.value}` | {code.description} |" for code in ErrorCode)
    return "\n".join(rows) + "\n"
