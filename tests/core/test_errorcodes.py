"""The error-code catalogue (supervisor.errorcodes): complete, stable and documented."""

from __future__ import annotations

import re

import msgspec
import pytest

from supervisor.errorcodes import ErrorCode, markdown_table

# Every result code of the seed adapter's execute() (reference §7.1), restored `cancelled`
# included (B.2). These spellings are a wire contract with Paperclip and must never change.
SEED_CODES = {
    "k8s_agent_id_invalid",
    "k8s_concurrency_guard_unreachable",
    "k8s_concurrent_run_blocked",
    "k8s_orphan_task_unknown",
    "k8s_orphan_session_mismatch",
    "k8s_prompt_secret_create_failed",
    "k8s_job_create_failed",
    "k8s_pod_schedule_failed",
    "k8s_pod_reattach_failed",
    "k8s_job_state_mismatch",
    "timeout",
    "session_unavailable",
    "k8s_job_deleted_externally",
    "llm_api_error",
    "claude_truncated",
    "cancelled",
}
# Codes Paperclip's claude_local adapter reports, which its retry/continuation logic knows.
CLAUDE_LOCAL_CODES = {
    "max_turns_exhausted",
    "claude_auth_required",
    "claude_transient_upstream",
    "claude_refusal",
}


def test_every_seed_and_claude_local_code_is_in_the_catalogue() -> None:
    values = {code.value for code in ErrorCode}
    assert SEED_CODES <= values
    assert CLAUDE_LOCAL_CODES <= values


def test_the_catalogue_has_no_codes_nobody_asked_for() -> None:
    supervisor_own = {"claude_failed", "claude_no_result", "supervisor_error"}
    assert {code.value for code in ErrorCode} == SEED_CODES | CLAUDE_LOCAL_CODES | supervisor_own


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.value)
def test_each_code_is_snake_case_with_a_one_line_description(code: ErrorCode) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code.value)
    assert code.name == code.value.upper()
    assert code.description.strip() == code.description
    assert "\n" not in code.description
    assert 10 < len(code.description) <= 100
    assert code.description.endswith(".")


def test_codes_are_plain_strings_on_the_wire() -> None:
    assert {"timeout": "found"}[ErrorCode.TIMEOUT] == "found"  # equal and hashed as its string
    assert str(ErrorCode.K8S_JOB_CREATE_FAILED) == "k8s_job_create_failed"
    assert ErrorCode("session_unavailable") is ErrorCode.SESSION_UNAVAILABLE
    assert msgspec.json.encode({"errorCode": ErrorCode.CANCELLED}) == b'{"errorCode":"cancelled"}'
    assert msgspec.json.decode(b'"llm_api_error"', type=ErrorCode) is ErrorCode.LLM_API_ERROR


def test_unknown_codes_are_rejected_with_the_value_named() -> None:
    with pytest.raises(ValueError, match="'adapter_failed' is not a valid ErrorCode"):
        ErrorCode("adapter_failed")


def test_markdown_table_lists_every_code_once_in_order() -> None:
    table = markdown_table()
    rows = table.splitlines()
    assert rows[:2] == ["| code | meaning |", "|---|---|"]
    assert rows[2:] == [f"| `{code.value}` | {code.description} |" for code in ErrorCode]
    assert table.endswith("\n")
