"""Classification of finished runs into error codes (supervisor.classify).

Every code is exercised with a realistic transcript: real Claude Code captures where the failure
could be produced offline (`fixtures/claude/captured`), the seed adapter's test lines
(`adapter-tests`), and a few lines crafted from captured ones (`crafted`). The helper cases port
the seed's parse tests (describeClaudeFailure, isClaudeMaxTurnsResult,
isClaudeUnknownSessionError, extractClaudeLoginUrl, detectClaudeLoginRequired).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from supervisor import classify as classify_module
from supervisor.classify import (
    Classification,
    ContainerExit,
    Failure,
    PodObservation,
    RunOutcome,
    build_partial_run_error,
    classify,
    describe_failure,
    describe_truncation_cause,
    detect_login_required,
    extract_login_url,
    is_max_turns_result,
    is_unknown_session_error,
)
from supervisor.errorcodes import ErrorCode
from supervisor.streamjson import (
    ResultEvent,
    TranscriptSummary,
    Usage,
    parse_transcript,
    read_result_event,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claude"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def transcript(name: str) -> TranscriptSummary:
    return parse_transcript(fixture(name))


def exited(code: int | None, **state: Any) -> PodObservation:
    return PodObservation(
        phase="Failed" if code else "Succeeded", claude_exit=ContainerExit(exit_code=code, **state)
    )


def run(
    source: str | bytes | TranscriptSummary, exit_code: int | None = 0, **outcome: Any
) -> Classification:
    if isinstance(source, str):
        summary = transcript(source)
    elif isinstance(source, bytes):
        summary = parse_transcript(source)
    else:
        summary = source
    pod = outcome.pop("pod", exited(exit_code))
    return classify(RunOutcome(transcript=summary, pod=pod, **outcome))


def result_of(**fields: Any) -> ResultEvent:
    return read_result_event({"type": "result", **fields})


def first_line(name: str) -> bytes:
    return fixture(name).splitlines(keepends=True)[0]


# --------------------------------------------------------------------------- helpers (seed parse tests)


def test_describe_failure_is_none_without_failure_info() -> None:
    assert describe_failure(result_of()) is None


def test_describe_failure_is_none_for_empty_result_text() -> None:
    assert describe_failure(result_of(result="   ")) is None


def test_describe_failure_formats_subtype_and_result() -> None:
    assert (
        describe_failure(result_of(subtype="error_rate_limit", result="Too many requests"))
        == "Claude run failed: subtype=error_rate_limit: Too many requests"
    )


def test_describe_failure_falls_back_to_the_first_error_message() -> None:
    assert (
        describe_failure(
            result_of(subtype="error_during_execution", errors=[{"message": "boom"}, "second"])
        )
        == "Claude run failed: subtype=error_during_execution: boom"
    )


def test_describe_failure_leaves_out_the_misleading_success_subtype() -> None:
    # Claude Code reports API errors as subtype "success" with is_error true.
    result = transcript("captured/api-error400.jsonl").result
    assert result is not None
    assert (
        describe_failure(result) == "Claude run failed: API Error: 400 stub: scripted bad request"
    )


def test_max_turns_is_false_for_none() -> None:
    assert not is_max_turns_result(None)


@pytest.mark.parametrize(
    "fields",
    [
        {"subtype": "error_max_turns"},
        {"subtype": " Error_Max_Turns "},
        {"stop_reason": "max_turns"},
        {"terminal_reason": "max_turns"},
        {"result": "Stopped: max turns reached"},
        {"result": "MAXIMUM TURNS exceeded"},
        {"errors": ["Reached maximum number of turns (1)"]},
    ],
)
def test_max_turns_is_detected(fields: dict[str, Any]) -> None:
    assert is_max_turns_result(result_of(**fields))


def test_max_turns_text_can_be_ignored() -> None:
    assert not is_max_turns_result(result_of(result="max turns"), include_text=False)
    assert is_max_turns_result(result_of(subtype="error_max_turns"), include_text=False)
    assert not is_max_turns_result(result_of(result="all done"))


@pytest.mark.parametrize(
    "text",
    [
        "No conversation found with session id abc",
        "No conversation found with session ID: 3f1b2c4d",
        "Error: unknown session",
        "session 1234 not found",
    ],
)
def test_unknown_session_is_detected(text: str) -> None:
    assert is_unknown_session_error([text])


def test_unknown_session_ignores_unrelated_errors_and_checks_every_text() -> None:
    assert not is_unknown_session_error(["rate limited", "file not found"])
    assert is_unknown_session_error(["rate limited", "No conversation found with session id x"])


def test_login_url_none_without_a_url() -> None:
    assert extract_login_url("no url here") is None


def test_login_url_trailing_punctuation_is_removed() -> None:
    assert extract_login_url("Visit https://claude.ai/login).") == "https://claude.ai/login"


def test_login_url_first_url_when_none_names_claude_or_auth() -> None:
    assert (
        extract_login_url("see https://example.com/a and https://example.org/b")
        == "https://example.com/a"
    )


def test_login_url_prefers_claude_anthropic_or_auth_urls() -> None:
    text = "docs https://example.com/help then https://console.anthropic.com/login?x=1, thanks"
    assert extract_login_url(text) == "https://console.anthropic.com/login?x=1"
    assert (
        extract_login_url("a https://x.io b https://x.io/oauth/authorize")
        == "https://x.io/oauth/authorize"
    )


def test_login_required_false_without_auth_phrases() -> None:
    assert not detect_login_required(["all good", "done"])


@pytest.mark.parametrize(
    "text",
    [
        "Not logged in · Please run /login",
        "Error: please log in first",
        "Please run `claude login`",
        "login required",
        "This command requires login",
        "401 Unauthorized",
        "authentication required",
        "Invalid API key · Fix external API key",
    ],
)
def test_login_required_is_detected(text: str) -> None:
    assert detect_login_required(["first line\n" + text])


# --------------------------------------------------------------------------- success


def test_happy_path_is_a_success_with_session_usage_and_cost() -> None:
    outcome = run("adapter-tests/01-happy-path.jsonl", 0)
    assert outcome.error_code is None
    assert outcome.error_message is None
    assert outcome.exit_code == 0
    assert outcome.session_id == "sess_test123"
    assert outcome.model == "claude-sonnet-4-6"
    assert outcome.usage == Usage(input_tokens=100, cached_input_tokens=10, output_tokens=50)
    assert outcome.cost_usd == pytest.approx(0.001)
    assert outcome.summary == "Done."
    assert outcome.result_json is not None
    assert outcome.result_json["subtype"] == "success"
    assert not outcome.clear_session
    assert not outcome.timed_out


@pytest.mark.parametrize(
    "name", ["captured/text.jsonl", "captured/tool-bypass.jsonl", "captured/tool-partial.jsonl"]
)
def test_real_successful_runs_are_successes(name: str) -> None:
    outcome = run(name, 0)
    assert outcome.error_code is None
    assert outcome.session_id is not None
    assert outcome.cost_usd is not None and outcome.cost_usd > 0


def test_a_run_with_permission_denials_still_succeeds() -> None:
    outcome = run("captured/tool-denied.jsonl", 0)
    assert outcome.error_code is None
    assert outcome.result_json is not None
    assert outcome.result_json["permission_denials"][0]["tool_name"] == "Bash"


def test_model_falls_back_to_the_configured_model() -> None:
    outcome = run("adapter-tests/09-error-results.jsonl", 0, configured_model="claude-sonnet-4-6")
    assert outcome.model == "claude-sonnet-4-6"


def test_success_without_a_readable_exit_code_counts_as_exit_zero() -> None:
    outcome = run("captured/text.jsonl", pod=None)
    assert outcome.error_code is None
    assert outcome.exit_code is None


def test_quoted_failure_text_in_tools_does_not_change_a_success() -> None:
    # Only the result event and stderr are read for failure patterns (a lesson from production:
    # scanning the whole transcript mislabelled permanent failures).
    quoting = b"".join(
        json.dumps(event).encode() + b"\n"
        for event in [
            {"type": "system", "subtype": "init", "session_id": "s1", "model": "m"},
            {
                "type": "assistant",
                "message": {
                    "id": "a",
                    "content": [
                        {
                            "type": "text",
                            "text": "API Error: 529 Overloaded; No conversation found with session id x; Invalid API key",
                        }
                    ],
                },
            },
            {
                "type": "user",
                "message": {
                    "content": [
                        {"type": "tool_result", "content": "HTTP 429 max turns unauthorized"}
                    ]
                },
            },
            {"type": "result", "subtype": "success", "is_error": False, "result": "All done."},
        ]
    )
    outcome = run(quoting, 0)
    assert outcome.error_code is None
    assert outcome.session_id == "s1"


# --------------------------------------------------------------------------- failures with a result


def test_result_with_nonzero_exit_is_claude_failed_with_the_result_text() -> None:
    outcome = run("captured/api-error400.jsonl", 1)
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED
    assert outcome.error_message == "Claude run failed: API Error: 400 stub: scripted bad request"
    assert outcome.exit_code == 1
    # usage, cost and session are still reported for a failed run
    assert outcome.session_id == "9f250265-e6df-4522-9b93-f7c09103968b"
    assert outcome.cost_usd == 0
    assert outcome.usage == Usage()


def test_error_result_without_description_names_the_exit_code() -> None:
    outcome = run(b'{"type":"result","is_error":true,"session_id":"s"}\n', 2)
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED
    assert outcome.error_message == "Claude exited with code 2"


def test_nonzero_exit_after_a_successful_result_is_a_failure_not_quoting_the_result() -> None:
    # e.g. `tee` to the run log failed after Claude finished; with pipefail the pod fails.
    outcome = run("captured/text.jsonl", 1)
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED
    assert outcome.error_message == "Claude exited with code 1 after its result reported success"
    assert outcome.summary == "hi"
    assert outcome.session_id == "497a12c2-af04-459b-8fa5-6eb9db34244b"


def test_is_error_result_with_exit_zero_is_a_failure() -> None:
    # The seed reported `is_error: true` with exit 0 as success; Claude itself says it failed.
    outcome = run("captured/api-error400.jsonl", 0)
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED
    assert outcome.exit_code == 0


def test_error_result_line_from_the_seed_tests() -> None:
    outcome = run(fixture("adapter-tests/09-error-results.jsonl").splitlines()[0], 1)
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED
    assert outcome.error_message == "Claude run failed: subtype=error_rate_limit: rate limited"


def test_unknown_session_from_the_seed_transcript_clears_the_session() -> None:
    outcome = run("adapter-tests/02-unknown-session.jsonl", 1, resumed_session_id="sess_bad")
    assert outcome.error_code is ErrorCode.SESSION_UNAVAILABLE
    assert (
        outcome.error_message
        == "Claude run failed: subtype=error: No conversation found with session id sess_bad"
    )
    assert outcome.clear_session
    assert outcome.session_id is None  # never handed back for the next run
    assert outcome.result_json is not None


def test_unknown_session_from_the_real_cli_has_no_init_and_the_text_in_errors() -> None:
    outcome = run(
        "captured/unknown-session.jsonl",
        1,
        resumed_session_id="3f1b2c4d-1111-4222-8333-944455556666",
    )
    assert outcome.error_code is ErrorCode.SESSION_UNAVAILABLE
    assert outcome.error_message == (
        "Claude run failed: subtype=error_during_execution: "
        "No conversation found with session ID: 3f1b2c4d-1111-4222-8333-944455556666"
    )
    assert outcome.clear_session


def test_unknown_session_when_stderr_is_merged_into_the_log() -> None:
    # Following the pod-log API, the CLI's stderr line arrives among the JSON events.
    data = fixture("captured/unknown-session.stderr.txt") + fixture(
        "captured/unknown-session.jsonl"
    )
    outcome = run(data, 1)
    assert outcome.error_code is ErrorCode.SESSION_UNAVAILABLE


def test_unknown_session_from_stderr_alone_when_no_result_arrived() -> None:
    outcome = run(fixture("captured/unknown-session.stderr.txt"), 1)
    assert outcome.error_code is ErrorCode.SESSION_UNAVAILABLE
    assert (
        outcome.error_message
        == "No conversation found with session ID: 3f1b2c4d-1111-4222-8333-944455556666"
    )
    assert outcome.clear_session


def test_max_turns_is_exhausted_and_clears_the_session() -> None:
    outcome = run("captured/max-turns.jsonl", 1)
    assert outcome.error_code is ErrorCode.MAX_TURNS_EXHAUSTED
    assert outcome.error_message == (
        "Claude run failed: subtype=error_max_turns: Reached maximum number of turns (1)"
    )
    assert outcome.clear_session
    assert outcome.usage == Usage(input_tokens=12, output_tokens=5)


def test_max_turns_subtype_counts_even_when_claude_exits_zero() -> None:
    outcome = run(b'{"type":"result","subtype":"error_max_turns","num_turns":40}\n', 0)
    assert outcome.error_code is ErrorCode.MAX_TURNS_EXHAUSTED
    assert outcome.error_message == "Claude run failed: subtype=error_max_turns"


def test_a_successful_result_that_mentions_max_turns_stays_a_success() -> None:
    outcome = run(
        b'{"type":"result","subtype":"success","result":"I stayed under the max turns."}\n', 0
    )
    assert outcome.error_code is None
    assert not outcome.clear_session


def test_auth_failure_from_the_real_cli() -> None:
    outcome = run("captured/auth-401.jsonl", 1)
    assert outcome.error_code is ErrorCode.CLAUDE_AUTH_REQUIRED
    assert outcome.error_message == "Claude run failed: Invalid API key · Fix external API key"
    assert outcome.login_url is None
    assert not outcome.clear_session


def test_auth_failure_from_a_login_prompt_on_stderr_carries_the_login_url() -> None:
    data = (
        b"Not logged in. Please visit https://claude.ai/oauth/authorize?code=true.\n"
        + b'{"type":"result","subtype":"success","is_error":true,"result":"Not logged in"}\n'
    )
    outcome = run(data, 1)
    assert outcome.error_code is ErrorCode.CLAUDE_AUTH_REQUIRED
    assert outcome.login_url == "https://claude.ai/oauth/authorize?code=true"


@pytest.mark.parametrize(
    ("name", "status"),
    [("captured/rate-limit-429.jsonl", 429), ("captured/overloaded-529.jsonl", 529)],
)
def test_rate_limits_and_overload_are_transient_upstream(name: str, status: int) -> None:
    outcome = run(name, 1)
    assert outcome.error_code is ErrorCode.CLAUDE_TRANSIENT_UPSTREAM
    assert outcome.error_family == "transient_upstream"
    assert str(status) in (outcome.error_message or "")
    assert outcome.retry_not_before is None


def test_transient_status_is_read_from_the_text_when_the_field_is_missing() -> None:
    outcome = run(
        b'{"type":"result","is_error":true,"result":"API Error: 503 upstream connect error"}\n', 1
    )
    assert outcome.error_code is ErrorCode.CLAUDE_TRANSIENT_UPSTREAM


def test_a_rejected_rate_limit_sets_when_to_retry() -> None:
    outcome = run("crafted/rate-limit-rejected.jsonl", 1)
    assert outcome.error_code is ErrorCode.CLAUDE_TRANSIENT_UPSTREAM
    assert outcome.retry_not_before == "2026-04-24T18:40:00Z"


def test_a_forbidden_request_is_not_transient() -> None:
    outcome = run(
        b'{"type":"result","is_error":true,"api_error_status":403,"result":"API Error: 403 forbidden"}\n',
        1,
    )
    assert outcome.error_code is ErrorCode.CLAUDE_FAILED


def test_refusal_from_the_real_cli() -> None:
    outcome = run("captured/refusal.jsonl", 1)
    assert outcome.error_code is ErrorCode.CLAUDE_REFUSAL
    assert outcome.error_family == "model_refusal"
    assert "Usage Policy" in (outcome.error_message or "")


def test_a_recovered_result_is_classified_like_any_other() -> None:
    result_line = fixture("captured/max-turns.jsonl").splitlines(keepends=True)[-1]
    outcome = run(b"stderr noise without newline" + result_line, 1)
    assert outcome.error_code is ErrorCode.MAX_TURNS_EXHAUSTED


# --------------------------------------------------------------------------- failures without a result


def test_empty_llm_response_is_llm_api_error() -> None:
    outcome = run("adapter-tests/03-llm-api-empty-response.jsonl", 1)
    assert outcome.error_code is ErrorCode.LLM_API_ERROR
    assert outcome.error_message == (
        "LLM API returned an empty response (stop_reason: null, output_tokens: 0) — the upstream "
        "model API may be degraded or misconfigured"
    )
    assert outcome.session_id == "sess_mm"
    assert outcome.result_json is None


def test_thinking_only_minimax_response_is_llm_api_error() -> None:
    outcome = run("adapter-tests/05-minimax-thinking-only-no-result.jsonl", None, pod=None)
    assert outcome.error_code is ErrorCode.LLM_API_ERROR
    assert "{" not in (outcome.error_message or "")  # raw JSON never surfaces


def test_oom_killed_run_is_truncated_with_the_pod_cause() -> None:
    pod = exited(137, reason="OOMKilled", message="Memory cgroup out of memory")
    outcome = run("adapter-tests/04-truncated-mid-stream.jsonl", pod=pod)
    assert outcome.error_code is ErrorCode.CLAUDE_TRUNCATED
    message = outcome.error_message or ""
    assert message.startswith("Claude run was truncated mid-stream (model: claude-opus-4-7) — ")
    for part in ("exit code 137", "SIGKILL", "OOMKilled", "Memory cgroup out of memory"):
        assert part in message
    assert outcome.exit_code == 137


def test_real_run_killed_mid_tool_is_truncated() -> None:
    outcome = run("captured/killed-mid-tool.jsonl", 137)
    assert outcome.error_code is ErrorCode.CLAUDE_TRUNCATED
    assert outcome.error_message == (
        "Claude run was truncated mid-stream (model: claude-opus-4-8[1m]) — assistant produced "
        "content but no result event arrived; exit code 137, SIGKILL (commonly OOMKilled)"
    )
    assert outcome.session_id == "3cc2e0ef-122f-40d4-8941-31d10600ca39"


def test_partial_run_without_init_is_truncated_with_model_from_messages() -> None:
    pod = PodObservation(missing=True)
    outcome = run("crafted/reattached-mid-run.jsonl", pod=pod)
    assert outcome.error_code is ErrorCode.CLAUDE_TRUNCATED
    assert "(model: claude-opus-4-8)" in (outcome.error_message or "")
    assert "pod is gone" in (outcome.error_message or "")
    assert outcome.session_id == "ffe9d119-b1d3-43f4-ab2a-b298f4e369b7"
    assert outcome.summary == "The command printed: hi"


def test_evicted_pod_reason_is_part_of_the_truncation_cause() -> None:
    pod = PodObservation(
        phase="Failed",
        reason="Evicted",
        claude_exit=ContainerExit(exit_code=137, reason="Error", signal=9),
    )
    outcome = run("captured/killed-mid-tool.jsonl", pod=pod)
    assert outcome.error_message is not None
    assert outcome.error_message.endswith(
        "exit code 137, SIGKILL (commonly OOMKilled), signal 9, reason=Error, pod reason=Evicted"
    )
    assert outcome.signal == "SIGKILL"


def test_b22_exit_state_seen_before_cleanup_wins_over_the_pod_being_gone() -> None:
    # Seed defect B.22: the truncation path re-queried the pod after its own cleanup deleted
    # it and blamed "eviction or external delete". The exit state the lifecycle captured before
    # cleanup is what gets reported, even though the pod is gone by now.
    pod = PodObservation(missing=True, claude_exit=ContainerExit(exit_code=137, reason="OOMKilled"))
    outcome = run("captured/killed-mid-tool.jsonl", pod=pod)
    message = outcome.error_message or ""
    assert "pod is gone" not in message
    assert message.endswith("exit code 137, SIGKILL (commonly OOMKilled), reason=OOMKilled")


@pytest.mark.parametrize(
    ("pod", "cause"),
    [
        (None, "pod state unavailable — exit cause unknown"),
        (
            PodObservation(missing=True),
            "pod is gone — Job pod was removed (eviction, preemption, or external delete) before exit could be read",
        ),
        (
            PodObservation(phase="Running"),
            "container terminated state not yet observable (pod phase=Running) — kubelet status update did not land within retry window; exit cause unknown",
        ),
        (
            PodObservation(),
            "container terminated state not yet observable (pod present) — kubelet status update did not land within retry window; exit cause unknown",
        ),
        (PodObservation(claude_exit=ContainerExit(exit_code=143)), "exit code 143, SIGTERM"),
        (PodObservation(claude_exit=ContainerExit(message="  m  ")), "no exit code, message=m"),
    ],
)
def test_truncation_cause_variants(pod: PodObservation | None, cause: str) -> None:
    assert describe_truncation_cause(pod) == cause


def test_job_deleted_externally_without_exit_code() -> None:
    data = first_line("captured/text.jsonl")
    outcome = run(
        data,
        pod=PodObservation(missing=True),
        job_deleted_externally=True,
        deletion_details=(
            "detected_via=completion-poll-404",
            "job=ac-agent-run-abc123",
            "ns=paperclip",
            "elapsed_since_pod_running=42s",
            "completion_polls=7",
            "last_job_conditions=none_observed",
        ),
    )
    assert outcome.error_code is ErrorCode.K8S_JOB_DELETED_EXTERNALLY
    assert outcome.error_message == (
        "K8s Job was deleted externally before Claude could complete [detected_via=completion-poll-404, "
        "job=ac-agent-run-abc123, ns=paperclip, elapsed_since_pod_running=42s, completion_polls=7, "
        f"last_job_conditions=none_observed, stdout_bytes={len(data)}, stdout_nonempty_lines=1]"
    )
    assert outcome.exit_code is None


def test_job_deleted_but_exit_code_known_is_classified_from_the_output() -> None:
    outcome = run("captured/killed-mid-tool.jsonl", 137, job_deleted_externally=True)
    assert outcome.error_code is ErrorCode.CLAUDE_TRUNCATED


def test_job_deleted_after_the_result_arrived_keeps_the_result() -> None:
    outcome = run(
        "captured/text.jsonl", pod=PodObservation(missing=True), job_deleted_externally=True
    )
    assert outcome.error_code is None
    assert outcome.summary == "hi"


def test_init_only_nonzero_exit_says_claude_exited_immediately_after_init() -> None:
    outcome = run(first_line("captured/text.jsonl"), 1)
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert outcome.error_message == (
        "Claude exited immediately after init (model: claude-opus-4-8[1m]) (exit code 1) — the model "
        "may be unsupported or the session may have been rejected before producing output"
    )


def test_init_only_without_exit_code_says_claude_did_not_produce_a_result() -> None:
    outcome = run("adapter-tests/06-rate-limit-event-no-result.jsonl", pod=None)
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert outcome.error_message == (
        "Claude started but did not produce a result (model: claude-sonnet-4-6) — check API "
        "credentials, model support, and adapter config"
    )
    assert "rate_limit_event" not in (outcome.error_message or "")


def test_plain_error_line_is_quoted_with_the_pod_reason() -> None:
    data = first_line("captured/text.jsonl") + b"Error: bad request\n"
    outcome = run(data, pod=exited(1, reason="Error"))
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert (
        outcome.error_message == "Claude exited with code 1: Error: bad request [pod: reason=Error]"
    )


def test_synthetic_api_error_message_without_result_is_no_result() -> None:
    # The CLI died right after writing its API-error message: output_tokens 0 and a real
    # stop_reason, so neither an empty response nor a truncation.
    lines = fixture("captured/auth-401.jsonl").splitlines(keepends=True)
    outcome = run(b"".join(lines[:2]), pod=exited(1, reason="Error"))
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert outcome.error_message == (
        "Claude started but did not produce a result (model: claude-opus-4-8[1m]) — check API "
        "credentials, model support, and adapter config [pod: reason=Error]"
    )


def test_exit_zero_without_result_is_no_result() -> None:
    outcome = run(first_line("captured/text.jsonl"), 0)
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert (
        outcome.error_message
        == "Claude exited with code 0 but no result event arrived in its output"
    )


def test_no_output_at_all() -> None:
    outcome = run(b"", pod=exited(137, reason="OOMKilled"))
    assert outcome.error_code is ErrorCode.CLAUDE_NO_RESULT
    assert outcome.error_message == (
        "Claude exited with code 137 without any output [pod: reason=OOMKilled, SIGKILL (commonly OOMKilled)]"
    )
    unknown = run(b"", pod=None)
    assert unknown.error_message == "Claude ended with no readable exit code without any output"


def test_build_partial_run_error_quotes_the_first_plain_line_only() -> None:
    summary = parse_transcript(
        fixture("adapter-tests/06-rate-limit-event-no-result.jsonl") + b"boom\n"
    )
    assert build_partial_run_error(summary, exit_code=2) == "Claude exited with code 2: boom"


def test_unknown_json_only_output_names_the_exit_code() -> None:
    outcome = run(b'{"type":"stream_event"}\n', 3)
    assert outcome.error_message == "Claude exited with code 3"


# --------------------------------------------------------------------------- supervisor decisions


def test_b2_cancel_is_reported_as_cancelled() -> None:
    # Seed defect B.2: the `cancelled` result was lost and cancels surfaced as deletions.
    outcome = run(
        "captured/killed-mid-tool.jsonl",
        pod=PodObservation(missing=True),
        cancelled=True,
        job_deleted_externally=True,
    )
    assert outcome.error_code is ErrorCode.CANCELLED
    assert outcome.error_message == "Run cancelled"
    assert not outcome.timed_out
    assert outcome.session_id == "3cc2e0ef-122f-40d4-8941-31d10600ca39"


def test_cancel_reason_is_kept_and_cancel_beats_timeout() -> None:
    outcome = run(
        "captured/text.jsonl", cancelled=True, cancel_reason="operator request", timed_out=True
    )
    assert outcome.error_code is ErrorCode.CANCELLED
    assert outcome.error_message == "Run cancelled: operator request"


def test_timeout_keeps_session_usage_and_marks_timed_out() -> None:
    outcome = run("captured/killed-mid-tool.jsonl", 137, timed_out=True, timeout_sec=600)
    assert outcome.error_code is ErrorCode.TIMEOUT
    assert outcome.error_message == "Timed out after 600s"
    assert outcome.timed_out
    assert outcome.session_id == "3cc2e0ef-122f-40d4-8941-31d10600ca39"  # resumable next time
    assert not outcome.clear_session
    assert outcome.exit_code == 137


def test_timeout_without_a_configured_limit() -> None:
    outcome = run(b"", pod=None, timed_out=True)
    assert outcome.error_message == "Timed out"


@pytest.mark.parametrize(
    "code",
    [
        ErrorCode.K8S_POD_SCHEDULE_FAILED,
        ErrorCode.K8S_JOB_CREATE_FAILED,
        ErrorCode.K8S_JOB_STATE_MISMATCH,
        ErrorCode.K8S_CONCURRENT_RUN_BLOCKED,
        ErrorCode.SUPERVISOR_ERROR,
    ],
)
def test_lifecycle_failures_pass_through(code: ErrorCode) -> None:
    failure = Failure(
        code=code, message="Pod scheduling failed: Pod unschedulable: 0/3 nodes are available"
    )
    outcome = run(b"", pod=None, failure=failure, resumed_session_id="sess_keep")
    assert outcome.error_code is code
    assert outcome.error_message == failure.message
    assert outcome.session_id == "sess_keep"  # nothing ran, so the session is still good
    assert not outcome.clear_session


def test_session_falls_back_to_the_resumed_one_when_the_output_has_none() -> None:
    outcome = run(b"", pod=None, cancelled=True, resumed_session_id="sess_prev")
    assert outcome.session_id == "sess_prev"


def test_signal_is_named_when_kubernetes_reports_one() -> None:
    assert run("captured/text.jsonl", pod=exited(0, signal=15)).signal == "SIGTERM"
    assert run("captured/text.jsonl", pod=exited(0, signal=99)).signal == "99"
    assert run("captured/text.jsonl", 0).signal is None


def test_module_exports_are_explicit() -> None:
    public = {
        name
        for name, value in vars(classify_module).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == classify_module.__name__
    }
    assert set(classify_module.__all__) == public
