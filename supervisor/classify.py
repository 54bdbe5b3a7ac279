"""Decide how a finished run ended: an error code and message, or success.

Input is a `RunOutcome`: the parsed transcript plus what the supervisor saw from Kubernetes
(the claude container's exit, whether the Job timed out, was cancelled or vanished). Output is a
`Classification` holding everything Paperclip's execution result needs. The rules follow the
seed adapter (reference §6.3-6.6, §7.1) with its defects fixed, and map Claude's own failures
to the codes Paperclip's `claude_local` adapter uses so the server's retry logic applies.

Only the terminal `result` event, the result's errors and plain-text (stderr) lines are read
when looking for auth, session or rate-limit failures, never assistant or tool text: a transcript
that merely quotes "unknown session" or "429" must not change how the run is classified.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime
import re
import signal as signals
from collections.abc import Iterable
from typing import Any

import msgspec

from supervisor.errorcodes import ErrorCode
from supervisor.streamjson import ResultEvent, TranscriptSummary, Usage

__all__ = [
    "Classification",
    "ContainerExit",
    "Failure",
    "PodObservation",
    "RunOutcome",
    "build_partial_run_error",
    "classify",
    "describe_failure",
    "describe_truncation_cause",
    "detect_login_required",
    "extract_login_url",
    "is_max_turns_result",
    "is_unknown_session_error",
]

# Paperclip's `errorFamily` values for failures its scheduler treats specially.
TRANSIENT_UPSTREAM = "transient_upstream"
MODEL_REFUSAL = "model_refusal"

# HTTP statuses from the model API that are worth retrying later.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
_AUTH_STATUSES = frozenset({401})
# Claude Code writes API failures as "API Error: 529 ..." or "API Error: Request rejected (429)".
_API_ERROR_STATUS = re.compile(r"API Error:\s*(?:[^()\d]*\()?(\d{3})\b")
_UNKNOWN_SESSION = re.compile(
    r"no conversation found with session id|unknown session|session .* not found", re.IGNORECASE
)
_MAX_TURNS_TEXT = re.compile(r"max(?:imum)?\s+(?:number\s+of\s+)?turns?", re.IGNORECASE)
_LOGIN_REQUIRED = re.compile(
    r"not logged in|please log in|please run `?(?:claude )?/?login`?|login required|"
    r"requires login|unauthorized|authentication required|invalid api key",
    re.IGNORECASE,
)
# Query strings stay (OAuth URLs need them); punctuation that ends a sentence is dropped.
_URL = re.compile(r"https?://[^\s'\"`<>()\[\]{}]+")
_URL_TRAILING = "])}.!,?;:'\""
_OOM_EXIT = 137  # 128 + SIGKILL: what the kernel OOM killer leaves behind
_TERM_EXIT = 143  # 128 + SIGTERM


class ContainerExit(msgspec.Struct, frozen=True, kw_only=True):
    """The claude container's `state.terminated`, as the pod status reported it."""

    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None  # e.g. "OOMKilled", "Error", "Completed"
    message: str | None = None


class PodObservation(msgspec.Struct, frozen=True, kw_only=True):
    """The last look at the Job's pod, taken before the supervisor deleted anything.

    `claude_exit` is None when the container's terminated state was never seen; `missing` says
    the pod itself was gone by then.
    """

    missing: bool = False
    phase: str | None = None
    reason: str | None = None  # pod-level status reason, e.g. "Evicted"
    message: str | None = None
    claude_exit: ContainerExit | None = None


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A failure the lifecycle already decided (Kubernetes codes), passed through as is."""

    code: ErrorCode
    message: str


class RunOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """Everything known about a finished run, from its output and from Kubernetes."""

    transcript: TranscriptSummary
    pod: PodObservation | None = None  # None: the pod was never looked at
    cancelled: bool = False
    cancel_reason: str | None = None
    timed_out: bool = False
    timeout_sec: int = 0
    failure: Failure | None = None
    job_deleted_externally: bool = False
    # `key=value` facts about how the deletion was noticed (detected_via=, job=, ns=, ...).
    deletion_details: tuple[str, ...] = ()
    resumed_session_id: str | None = None  # the session the run was asked to `--resume`
    configured_model: str | None = None


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """How the run ended, shaped for Paperclip's execution result.

    `error_code` is None only for success. `clear_session` tells the caller to forget the
    session (it cannot or should not be resumed). `retry_not_before` is ISO-8601 UTC.
    """

    error_code: ErrorCode | None
    error_message: str | None
    error_family: str | None = None
    retry_not_before: str | None = None
    login_url: str | None = None
    exit_code: int | None
    signal: str | None
    timed_out: bool
    clear_session: bool
    session_id: str | None
    model: str | None
    usage: Usage | None
    cost_usd: float | None
    summary: str
    result_json: dict[str, Any] | None


# --------------------------------------------------------------------------- result helpers


def describe_failure(result: ResultEvent) -> str | None:
    """A one-line failure description from a result event, or None if it says nothing.

    Detail is the result text, else the first error message; the subtype is shown unless it is
    the uninformative `success` Claude Code also uses for API errors.
    """
    detail = (result.text or "").strip() or (result.errors[0] if result.errors else "")
    subtype = result.subtype if result.subtype and result.subtype != "success" else None
    if not subtype and not detail:
        return None
    parts = ["Claude run failed"]
    if subtype:
        parts.append(f"subtype={subtype}")
    if detail:
        parts.append(detail)
    return ": ".join(parts)


def is_max_turns_result(result: ResultEvent | None, *, include_text: bool = True) -> bool:
    """Whether a result says Claude stopped at its turn limit (subtype, stop or terminal reason,
    or, with `include_text`, the result/error text)."""
    if result is None:
        return False
    if (result.subtype or "").strip().lower() == "error_max_turns":
        return True
    if result.stop_reason == "max_turns" or result.raw.get("terminal_reason") == "max_turns":
        return True
    if not include_text:
        return False
    return any(_MAX_TURNS_TEXT.search(text) for text in _result_texts(result))


def is_unknown_session_error(texts: Iterable[str]) -> bool:
    """Whether any text says the session to resume does not exist."""
    return any(_UNKNOWN_SESSION.search(text) for text in texts)


def detect_login_required(texts: Iterable[str]) -> bool:
    """Whether any line of the texts asks for a login or reports missing/invalid credentials."""
    return any(_LOGIN_REQUIRED.search(line.strip()) for text in texts for line in text.splitlines())


def extract_login_url(text: str) -> str | None:
    """The login URL in a text: the first one naming claude, anthropic or auth, else the first."""
    urls = [match.group(0).rstrip(_URL_TRAILING) for match in _URL.finditer(text)]
    urls = [url for url in urls if url]
    for url in urls:
        if any(word in url.lower() for word in ("claude", "anthropic", "auth")):
            return url
    return urls[0] if urls else None


def _result_texts(result: ResultEvent) -> list[str]:
    return [text for text in (result.text, *result.errors) if text]


def _api_status(result: ResultEvent) -> int | None:
    if result.api_error_status is not None:
        return result.api_error_status
    match = _API_ERROR_STATUS.search(result.text or "")
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- pod helpers


def _exit_code(pod: PodObservation | None) -> int | None:
    return pod.claude_exit.exit_code if pod and pod.claude_exit else None


def _signal_name(pod: PodObservation | None) -> str | None:
    number = pod.claude_exit.signal if pod and pod.claude_exit else None
    if number is None:
        return None
    try:
        return signals.Signals(number).name
    except ValueError:
        return str(number)


def _exit_hint(exit_code: int | None) -> str | None:
    if exit_code == _OOM_EXIT:
        return "SIGKILL (commonly OOMKilled)"
    if exit_code == _TERM_EXIT:
        return "SIGTERM"
    return None


def describe_truncation_cause(pod: PodObservation | None) -> str:
    """Why a run may have stopped mid-stream, from the last look at its pod."""
    if pod is None:
        return "pod state unavailable — exit cause unknown"
    state = pod.claude_exit
    if state is None:
        if pod.missing:
            return (
                "pod is gone — Job pod was removed (eviction, preemption, or external delete) "
                "before exit could be read"
            )
        where = f"pod phase={pod.phase}" if pod.phase else "pod present"
        return (
            f"container terminated state not yet observable ({where}) — kubelet status update "
            "did not land within retry window; exit cause unknown"
        )
    parts = [f"exit code {state.exit_code}" if state.exit_code is not None else "no exit code"]
    hint = _exit_hint(state.exit_code)
    if hint:
        parts.append(hint)
    if state.signal is not None:
        parts.append(f"signal {state.signal}")
    if state.reason:
        parts.append(f"reason={state.reason}")
    if state.message:
        parts.append(f"message={state.message.strip()}")
    if pod.reason:
        parts.append(f"pod reason={pod.reason}")
    return ", ".join(parts)


def _pod_suffix(pod: PodObservation | None) -> str:
    if pod is None:
        return ""
    state = pod.claude_exit or ContainerExit()
    parts = []
    if state.reason:
        parts.append(f"reason={state.reason}")
    if state.message and state.message.strip():
        parts.append(f"message={state.message.strip()}")
    if state.signal is not None:
        parts.append(f"signal={state.signal}")
    if state.exit_code == _OOM_EXIT:
        parts.append("SIGKILL (commonly OOMKilled)")
    if pod.reason:
        parts.append(f"pod reason={pod.reason}")
    return f" [pod: {', '.join(parts)}]" if parts else ""


def _exited(exit_code: int | None) -> str:
    if exit_code is None:
        return "Claude ended with no readable exit code"
    return f"Claude exited with code {exit_code}"


def build_partial_run_error(
    transcript: TranscriptSummary, *, exit_code: int | None, pod: PodObservation | None = None
) -> str:
    """The message for a run that ended with no result event and no more specific diagnosis.

    Typed JSON events (init, rate limits, ...) are never quoted as "what Claude printed"; the
    first plain line is, since that is what a failing CLI writes.
    """
    model = transcript.model
    if exit_code == 0:
        return "Claude exited with code 0 but no result event arrived in its output"
    line = transcript.first_plain_line
    if line:
        message = f"{_exited(exit_code)}: {line}"
    elif (
        exit_code is not None and model and transcript.saw_init and not transcript.assistant_events
    ):
        message = (
            f"Claude exited immediately after init (model: {model}) (exit code {exit_code}) — "
            "the model may be unsupported or the session may have been rejected before "
            "producing output"
        )
    elif transcript.nonempty_lines and model:
        message = (
            f"Claude started but did not produce a result (model: {model}) — check API "
            "credentials, model support, and adapter config"
        )
    elif not transcript.nonempty_lines:
        message = f"{_exited(exit_code)} without any output"
    else:
        message = _exited(exit_code)
    return message + _pod_suffix(pod)


def _iso_utc(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- classification


def classify(outcome: RunOutcome) -> Classification:
    """Classify a finished run.

    First match wins: cancelled; timed out; a failure the lifecycle passed in; then, with a
    result event: unknown session, max turns, refusal, auth, transient upstream, other failure,
    success; without one: Job deleted externally, unknown session, empty LLM response,
    truncated mid-stream, no result.
    """
    transcript = outcome.transcript
    result = transcript.result
    exit_code = _exit_code(outcome.pod)
    base = _Fields(outcome, exit_code)

    if outcome.cancelled:
        reason = f": {outcome.cancel_reason}" if outcome.cancel_reason else ""
        return base.error(ErrorCode.CANCELLED, f"Run cancelled{reason}")
    if outcome.timed_out:
        limit = f" after {outcome.timeout_sec}s" if outcome.timeout_sec > 0 else ""
        return base.error(ErrorCode.TIMEOUT, f"Timed out{limit}", timed_out=True)
    if outcome.failure is not None:
        return base.error(outcome.failure.code, outcome.failure.message)
    if result is not None:
        return _classify_result(outcome, result, exit_code, base)
    return _classify_no_result(outcome, exit_code, base)


def _classify_result(
    outcome: RunOutcome, result: ResultEvent, exit_code: int | None, base: _Fields
) -> Classification:
    transcript = outcome.transcript
    failed = (exit_code or 0) != 0 or result.is_error
    texts = _result_texts(result)
    reports_error = (
        result.is_error or (result.subtype or "").startswith("error") or bool(result.errors)
    )
    # A result that reports success is not quoted as a failure, even if the exit code was not 0
    # (e.g. the log tee failed after Claude finished).
    message = describe_failure(result) if reports_error else None
    if failed and is_unknown_session_error([*texts, *transcript.plain_sample]):
        return base.error(
            ErrorCode.SESSION_UNAVAILABLE, message or "Session unavailable", clear_session=True
        )
    if is_max_turns_result(result, include_text=failed):
        turns = f" ({result.num_turns} turns)" if result.num_turns is not None else ""
        return base.error(
            ErrorCode.MAX_TURNS_EXHAUSTED,
            message or f"Claude reached its maximum number of turns{turns}",
            clear_session=True,
        )
    if result.stop_reason == "refusal":
        return base.error(
            ErrorCode.CLAUDE_REFUSAL,
            message or "The model refused the request",
            family=MODEL_REFUSAL,
        )
    if not failed:
        return base.success()
    fallback = message or (
        _exited(exit_code)
        if reports_error
        else f"{_exited(exit_code)} after its result reported success"
    )
    status = _api_status(result)
    if status in _AUTH_STATUSES or detect_login_required([*texts, *transcript.plain_sample]):
        login_url = extract_login_url("\n".join([*texts, *transcript.plain_sample]))
        return base.error(ErrorCode.CLAUDE_AUTH_REQUIRED, fallback, login_url=login_url)
    rate_limit = transcript.last_rate_limit
    rejected = rate_limit is not None and rate_limit.status == "rejected"
    if status in _TRANSIENT_STATUSES or rejected:
        resets_at = rate_limit.resets_at if rate_limit is not None and rejected else None
        return base.error(
            ErrorCode.CLAUDE_TRANSIENT_UPSTREAM,
            fallback,
            family=TRANSIENT_UPSTREAM,
            retry_not_before=_iso_utc(resets_at) if resets_at is not None else None,
        )
    return base.error(ErrorCode.CLAUDE_FAILED, fallback)


def _classify_no_result(
    outcome: RunOutcome, exit_code: int | None, base: _Fields
) -> Classification:
    transcript = outcome.transcript
    if outcome.job_deleted_externally and exit_code is None:
        details = [
            *outcome.deletion_details,
            f"stdout_bytes={transcript.bytes}",
            f"stdout_nonempty_lines={transcript.nonempty_lines}",
        ]
        return base.error(
            ErrorCode.K8S_JOB_DELETED_EXTERNALLY,
            f"K8s Job was deleted externally before Claude could complete [{', '.join(details)}]",
        )
    session_line = next(
        (line for line in transcript.plain_sample if is_unknown_session_error([line])), None
    )
    if session_line is not None:
        return base.error(ErrorCode.SESSION_UNAVAILABLE, session_line, clear_session=True)
    if transcript.llm_api_empty_response:
        return base.error(
            ErrorCode.LLM_API_ERROR,
            "LLM API returned an empty response (stop_reason: null, output_tokens: 0) — the "
            "upstream model API may be degraded or misconfigured",
        )
    if transcript.truncated_mid_stream:
        model = f" (model: {transcript.model})" if transcript.model else ""
        return base.error(
            ErrorCode.CLAUDE_TRUNCATED,
            f"Claude run was truncated mid-stream{model} — assistant produced content but no "
            f"result event arrived; {describe_truncation_cause(outcome.pod)}",
        )
    return base.error(
        ErrorCode.CLAUDE_NO_RESULT,
        build_partial_run_error(transcript, exit_code=exit_code, pod=outcome.pod),
    )


class _Fields:
    """The result fields every outcome shares; builds the final `Classification`."""

    def __init__(self, outcome: RunOutcome, exit_code: int | None) -> None:
        transcript = outcome.transcript
        result = transcript.result
        self._exit_code = exit_code
        self._signal = _signal_name(outcome.pod)
        self._session_id = (
            transcript.session_id
            or (result.session_id if result else None)
            or outcome.resumed_session_id
        )
        self._model = transcript.model or outcome.configured_model
        self._usage = result.usage if result else None
        self._cost = result.total_cost_usd if result else None
        self._summary = transcript.summary
        self._result_json = result.raw if result else None

    def success(self) -> Classification:
        return self.error(None, None)

    def error(
        self,
        code: ErrorCode | None,
        message: str | None,
        *,
        clear_session: bool = False,
        timed_out: bool = False,
        family: str | None = None,
        retry_not_before: str | None = None,
        login_url: str | None = None,
    ) -> Classification:
        return Classification(
            error_code=code,
            error_message=message,
            error_family=family,
            retry_not_before=retry_not_before,
            login_url=login_url,
            exit_code=self._exit_code,
            signal=self._signal,
            timed_out=timed_out,
            clear_session=clear_session,
            # A session that must be dropped is not handed back for the next run.
            session_id=None if clear_session else self._session_id,
            model=self._model,
            usage=self._usage,
            cost_usd=self._cost,
            summary=self._summary,
            result_json=self._result_json,
        )
