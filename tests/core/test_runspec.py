"""The run request: strict decoding, checks with precise error codes and field paths, the
fingerprint used for idempotency, and how per-run options fold into the agent overrides."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from supervisor import config, runspec

MINIMAL = {"runId": "run-1", "agent": {"id": "agent-1"}, "prompt": "Do the thing."}
LIMIT = 1000


def decode(body: Any, *, max_prompt_bytes: int = LIMIT) -> runspec.RunRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return runspec.decode_run_request(raw, max_prompt_bytes=max_prompt_bytes)


def with_fields(**fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(MINIMAL)
    body.update(fields)
    return body


def rejected(body: Any, **kwargs: Any) -> runspec.RequestError:
    with pytest.raises(runspec.RequestError) as caught:
        decode(body, **kwargs)
    return caught.value


class TestValid:
    def test_minimal(self) -> None:
        request = decode(MINIMAL)
        assert request.run_id == "run-1"
        assert request.agent == runspec.AgentRef(id="agent-1")
        assert request.prompt == "Do the thing."
        assert request.task_key is None and request.session_id is None
        assert request.claude == runspec.ClaudeOptions()
        assert request.config is None
        assert request.env == {} and request.secret_env == {} and request.skills == []
        assert request.timeout_sec is None and request.grace_sec is None

    def test_everything(self) -> None:
        request = decode(
            {
                "runId": "run-1",
                "agent": {"id": "agent-1", "name": "Ada", "companyId": "co-1"},
                "taskKey": "issue-42",
                "sessionId": "sess-1",
                "prompt": "p",
                "claude": {
                    "model": "claude-opus-4-8",
                    "effort": "high",
                    "maxTurns": 5,
                    "extraArgs": ["--x"],
                    "dangerouslySkipPermissions": False,
                },
                "config": {"timeoutSec": 60, "nodeSelector": "pool=a"},
                "env": {"PAPERCLIP_API_URL": "http://paperclip:3100"},
                "secretEnv": {"GH_TOKEN": {"secret": "github", "key": "token"}},
                "instructions": "# Be careful",
                "skills": [{"name": "paperclip", "path": "skills/paperclip"}],
                "timeoutSec": 600,
                "graceSec": 30,
            }
        )
        assert request.agent.company_id == "co-1"
        assert request.claude.max_turns == 5
        assert request.config == config.AgentSettings(timeout_sec=60, node_selector="pool=a")
        assert request.secret_env == {
            "GH_TOKEN": runspec.SecretKeyRef(secret="github", key="token")
        }
        assert request.skills == [runspec.SkillRef(name="paperclip", path="skills/paperclip")]
        assert request.timeout_sec == 600

    def test_null_means_not_given(self) -> None:
        request = decode(
            with_fields(taskKey=None, sessionId=None, config=None, claude={"model": None})
        )
        assert request.task_key is None
        assert request.claude.model is None

    def test_empty_config_is_no_config(self) -> None:
        assert decode(with_fields(config={})).config is None


class TestStructure:
    def test_not_json(self) -> None:
        error = rejected(b"{nope")
        assert error.code == "invalid_request"
        assert error.field == "(body)"
        assert "not valid JSON" in error.message

    def test_not_an_object(self) -> None:
        error = rejected(b"[1, 2]")
        assert (error.code, error.field) == ("invalid_request", "(body)")
        assert "JSON object" in error.message

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (with_fields(runID="x"), "runID"),
            (with_fields(run_id="x"), "run_id"),
            (with_fields(agent={"id": "a", "nme": "x"}), "agent.nme"),
            (with_fields(claude={"maxturns": 3}), "claude.maxturns"),
            (with_fields(config={"imagePulPolicy": "Always"}), "config.imagePulPolicy"),
            (with_fields(skills=[{"name": "a", "path": "b", "x": 1}]), "skills[0].x"),
            (
                with_fields(secretEnv={"T": {"secret": "s", "key": "k", "optional": True}}),
                "secretEnv.T.optional",
            ),
        ],
    )
    def test_unknown_fields_are_rejected_by_name(self, body: dict[str, Any], field: str) -> None:
        error = rejected(body)
        assert error.code == "invalid_request"
        assert error.field == field
        assert field in error.message and "unknown field" in error.message

    @pytest.mark.parametrize("missing", ["runId", "agent", "prompt"])
    def test_required_fields(self, missing: str) -> None:
        body = copy.deepcopy(MINIMAL)
        del body[missing]
        error = rejected(body)
        assert error.field == missing
        assert "required" in error.message

    def test_agent_id_required(self) -> None:
        assert rejected(with_fields(agent={"name": "x"})).field == "agent.id"

    @pytest.mark.parametrize(
        ("body", "field", "shown"),
        [
            (with_fields(timeoutSec=-5), "timeoutSec", "-5"),
            (with_fields(graceSec="60"), "graceSec", "'60'"),
            (with_fields(claude={"maxTurns": 1.5}), "claude.maxTurns", "1.5"),
            (with_fields(claude={"extraArgs": "--x"}), "claude.extraArgs", "'--x'"),
            (with_fields(agent={"id": 7}), "agent.id", "7"),
            (with_fields(skills={"name": "x"}), "skills", "{'name': 'x'}"),
        ],
    )
    def test_wrong_types_name_field_and_value(
        self, body: dict[str, Any], field: str, shown: str
    ) -> None:
        error = rejected(body)
        assert (error.code, error.field) == ("invalid_request", field)
        assert f"got {shown}" in error.message
        assert error.message.startswith(field)


class TestIds:
    @pytest.mark.parametrize("run_id", ["", "   ", "@@@", "---"])
    def test_unusable_run_id(self, run_id: str) -> None:
        error = rejected(with_fields(runId=run_id))
        assert (error.code, error.field) == ("k8s_run_id_invalid", "runId")
        assert repr(run_id) in error.message

    def test_unusable_agent_id(self) -> None:
        error = rejected(with_fields(agent={"id": "@@@"}))
        assert (error.code, error.field) == ("k8s_agent_id_invalid", "agent.id")
        assert "'@@@'" in error.message and "label" in error.message

    def test_ids_needing_sanitising_are_fine(self) -> None:
        request = decode(with_fields(runId="run/1 two", agent={"id": "user@example.com"}))
        assert request.run_id == "run/1 two"  # kept raw; labels are sanitised when built

    @pytest.mark.parametrize("field", ["taskKey", "sessionId"])
    def test_unusable_optional_ids(self, field: str) -> None:
        error = rejected(with_fields(**{field: "::"}))
        assert (error.code, error.field) == ("invalid_request", field)

    def test_unusable_company_id(self) -> None:
        error = rejected(with_fields(agent={"id": "a", "companyId": "//"}))
        assert error.field == "agent.companyId"

    def test_control_characters_in_ids(self) -> None:
        assert rejected(with_fields(runId="run\n1")).field == "runId"


class TestPrompt:
    def test_at_the_limit(self) -> None:
        assert decode(with_fields(prompt="x" * LIMIT)).prompt == "x" * LIMIT

    def test_over_the_limit(self) -> None:
        error = rejected(with_fields(prompt="x" * (LIMIT + 1)))
        assert (error.code, error.field) == ("prompt_too_large", "prompt")
        assert str(LIMIT + 1) in error.message and str(LIMIT) in error.message

    def test_limit_counts_utf8_bytes(self) -> None:
        # 501 characters, 1002 bytes.
        assert rejected(with_fields(prompt="é" * 501)).code == "prompt_too_large"

    @pytest.mark.parametrize("prompt", ["", "  \n ", "a\x00b"])
    def test_blank_or_nul(self, prompt: str) -> None:
        error = rejected(with_fields(prompt=prompt))
        assert (error.code, error.field) == ("invalid_request", "prompt")

    def test_wrong_type_is_not_echoed(self) -> None:
        error = rejected(with_fields(prompt=["secret", "stuff"]))
        assert error.field == "prompt"
        assert "secret" not in error.message

    def test_instructions_with_nul(self) -> None:
        assert rejected(with_fields(instructions="a\x00")).field == "instructions"


class TestEnv:
    def test_plain_values(self) -> None:
        assert decode(with_fields(env={"A": "1"})).env == {"A": "1"}

    def test_non_string_value_named_not_shown(self) -> None:
        error = rejected(with_fields(env={"API_KEY": 123456789}))
        assert (error.code, error.field) == ("invalid_request", "env.API_KEY")
        assert "123456789" not in error.message

    def test_bad_name(self) -> None:
        error = rejected(with_fields(env={"BAD NAME": "x"}))
        assert error.field == "env.BAD NAME"

    def test_not_an_object(self) -> None:
        assert rejected(with_fields(env=["A=1"])).field == "env"

    def test_secret_ref_fields(self) -> None:
        error = rejected(with_fields(secretEnv={"T": {"secret": "s"}}))
        assert error.field == "secretEnv.T.key"
        assert "required" in error.message

    def test_secret_name(self) -> None:
        error = rejected(with_fields(secretEnv={"T": {"secret": "Bad_Secret", "key": "k"}}))
        assert error.field == "secretEnv.T.secret"
        assert "'Bad_Secret'" in error.message

    def test_secret_key(self) -> None:
        error = rejected(with_fields(secretEnv={"T": {"secret": "s", "key": "a/b"}}))
        assert error.field == "secretEnv.T.key"

    def test_secret_env_name(self) -> None:
        assert rejected(with_fields(secretEnv={"A=B": {"secret": "s", "key": "k"}})).field == (
            "secretEnv.A=B"
        )

    def test_secret_env_entry_not_an_object(self) -> None:
        assert rejected(with_fields(secretEnv={"T": "s/k"})).field == "secretEnv.T"

    def test_name_in_both_env_and_secret_env(self) -> None:
        error = rejected(with_fields(env={"T": "x"}, secretEnv={"T": {"secret": "s", "key": "k"}}))
        assert error.field == "secretEnv.T"


class TestSkills:
    @pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a b", "..", "ü"])
    def test_bad_names(self, name: str) -> None:
        error = rejected(with_fields(skills=[{"name": name, "path": "skills/x"}]))
        assert error.field == "skills[0].name"

    def test_duplicate_names(self) -> None:
        skills = [{"name": "a", "path": "x"}, {"name": "a", "path": "y"}]
        error = rejected(with_fields(skills=skills))
        assert error.field == "skills[1].name"
        assert "twice" in error.message

    # The seed's path-traversal cases (N1), applied to skill paths.
    @pytest.mark.parametrize(
        "path", ["..", "../x", "a/../../b", "/abs", "a\\b", "a\x00b", "", "a//b", "./a"]
    )
    def test_paths_must_stay_inside_the_volume(self, path: str) -> None:
        error = rejected(with_fields(skills=[{"name": "s", "path": path}]))
        assert error.field == "skills[0].path"

    def test_valid_path(self) -> None:
        assert runspec.is_safe_relative_path("instances/default/skills/paperclip")


class TestOverrides:
    def test_config_overrides_are_checked(self) -> None:
        error = rejected(with_fields(config={"nodeSelector": "pool a"}))
        assert error.field == "config.nodeSelector line 1"
        assert "'pool a'" in error.message

    def test_config_tolerations_checked(self) -> None:
        error = rejected(with_fields(config={"tolerations": [{"operator": "Sometimes"}]}))
        assert error.field == "config.tolerations[0].operator"

    def test_config_wrong_type(self) -> None:
        error = rejected(with_fields(config={"retainJobs": "yes"}))
        assert error.field == "config.retainJobs"
        assert "'yes'" in error.message

    def test_config_env_value_not_shown(self) -> None:
        error = rejected(with_fields(config={"env": {"TOKEN": 98765}}))
        assert error.field == "config.env.TOKEN"
        assert "98765" not in error.message

    def test_claude_model_checked(self) -> None:
        error = rejected(with_fields(claude={"model": "two words"}))
        assert error.field == "claude.model"

    def test_claude_options_fold_into_overrides(self) -> None:
        request = decode(
            with_fields(
                claude={"model": "m-run", "maxTurns": 3, "dangerouslySkipPermissions": False},
                config={
                    "model": "m-config",
                    "effort": "low",
                    "timeoutSec": 10,
                    "maxTurnsPerRun": 9,
                },
                timeoutSec=20,
            )
        )
        overrides = request.agent_overrides()
        assert overrides.model == "m-run"
        assert overrides.effort == "low"
        assert overrides.max_turns_per_run == 3
        assert overrides.dangerously_skip_permissions is False
        assert overrides.timeout_sec == 20

    def test_fold_without_config(self) -> None:
        assert decode(with_fields(graceSec=5)).agent_overrides() == config.AgentSettings(
            grace_sec=5
        )

    def test_overrides_resolve_over_defaults(self) -> None:
        daemon = config.parse_config('[agent]\nmodel = "m-default"\ngraceSec = 1\n')
        request = decode(with_fields(claude={"model": "m-run"}))
        agent = config.resolve_agent_config(daemon, request.agent_overrides())
        assert (agent.model, agent.grace_sec) == ("m-run", 1)


class TestFingerprint:
    def test_spelling_does_not_matter(self) -> None:
        compact = json.dumps(with_fields(taskKey="t", env={"B": "2", "A": "1"}))
        spaced = json.dumps(
            {
                "env": {"A": "1", "B": "2"},
                "prompt": "Do the thing.",
                "taskKey": "t",
                "agent": {"id": "agent-1"},
                "runId": "run-1",
                "sessionId": None,
                "config": {},
            },
            indent=4,
        )
        first = decode(compact.encode()).fingerprint()
        assert first == decode(spaced.encode()).fingerprint()
        assert len(first) == 64 and int(first, 16) >= 0

    @pytest.mark.parametrize(
        "change",
        [
            {"prompt": "Do another thing."},
            {"taskKey": "t2"},
            {"claude": {"model": "m"}},
            {"config": {"timeoutSec": 1}},
            {"env": {"A": "2"}},
            {"agent": {"id": "agent-1", "name": "n"}},
        ],
    )
    def test_any_change_changes_it(self, change: dict[str, Any]) -> None:
        assert decode(MINIMAL).fingerprint() != decode(with_fields(**change)).fingerprint()

    def test_stable_across_decodes(self) -> None:
        assert decode(MINIMAL).fingerprint() == decode(MINIMAL).fingerprint()
