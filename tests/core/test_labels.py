"""Label sanitising, name rules and Job naming: examples from the seed adapter, and properties
that must hold for any input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervisor import labels

LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

ids = st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_.@:/ -]{0,100}", fullmatch=True)


class TestSanitizeLabelValue:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"),
            ("my-agent_1.v2", "my-agent_1.v2"),
            ("task:xyz/123", "taskxyz123"),
            ("--abc--", "abc"),
            ("...123...", "123"),
            ("user@example.com", "userexample.com"),
            ("Agent@Test", "AgentTest"),
            ("ünïcödé-1", "ncd-1"),
        ],
    )
    def test_examples(self, raw: str, expected: str) -> None:
        assert labels.sanitize_label_value(raw) == expected

    @pytest.mark.parametrize("raw", ["---", "", "   ", "@@@", "._-"])
    def test_nothing_usable_left(self, raw: str) -> None:
        assert labels.sanitize_label_value(raw) is None

    def test_truncates_to_the_limit(self) -> None:
        assert labels.sanitize_label_value("a" * 100) == "a" * 63
        assert labels.sanitize_label_value("abcdef", max_length=3) == "abc"

    def test_truncation_then_strips_a_trailing_separator(self) -> None:
        assert labels.sanitize_label_value("a" * 62 + "-b") == "a" * 62

    @given(ids)
    def test_result_is_always_a_valid_label_value(self, raw: str) -> None:
        value = labels.sanitize_label_value(raw)
        if value is not None:
            assert len(value) <= 63
            assert LABEL_VALUE.match(value)
            assert labels.is_valid_label_value(value)

    @given(ids)
    def test_none_only_without_ascii_alphanumerics(self, raw: str) -> None:
        has_alnum = any(ch.isascii() and ch.isalnum() for ch in raw)
        assert (labels.sanitize_label_value(raw) is None) == (not has_alnum)

    @given(ids)
    def test_idempotent(self, raw: str) -> None:
        once = labels.sanitize_label_value(raw)
        if once is not None:
            assert labels.sanitize_label_value(once) == once

    @given(st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?", fullmatch=True))
    def test_valid_values_pass_through(self, value: str) -> None:
        assert labels.sanitize_label_value(value) == value


class TestJobName:
    def test_examples_from_the_seed_adapter(self) -> None:
        assert labels.job_name("agent-abc", "run-abc12345") == "ac-agent-abc-run-abc12345-8a7510"
        assert (
            labels.job_name("a" * 100, "r" * 100) == "ac-aaaaaaaaaaaaaaaa-rrrrrrrrrrrrrrrr-b714c8"
        )

    def test_trailing_hyphens_are_trimmed_from_slugs(self) -> None:
        name = labels.job_name("abcdefghijklmno-xyz", "run")
        assert name.startswith("ac-abcdefghijklmno-run-")

    def test_slug_rule(self) -> None:
        assert labels.name_slug("Agent_ONE@x") == "agentonex"
        assert labels.name_slug("a" * 20) == "a" * 16

    @given(ids, ids)
    def test_always_a_valid_dns_label_within_63(self, agent_id: str, run_id: str) -> None:
        name = labels.job_name(agent_id, run_id)
        assert len(name) <= 63
        assert DNS_LABEL.match(name), name
        assert labels.is_dns_label(name)
        # Its prompt Secret's name must be valid too.
        assert labels.is_dns_subdomain(name + "-prompt")

    @given(ids, ids)
    def test_stable(self, agent_id: str, run_id: str) -> None:
        assert labels.job_name(agent_id, run_id) == labels.job_name(agent_id, run_id)

    @given(ids, ids, ids)
    def test_distinct_runs_get_distinct_names(self, agent_id: str, run_a: str, run_b: str) -> None:
        if run_a != run_b:
            assert labels.job_name(agent_id, run_a) != labels.job_name(agent_id, run_b)

    def test_runs_with_equal_slugs_differ_by_hash(self) -> None:
        first, second = labels.job_name("a", "run_1"), labels.job_name("a", "run1")
        assert first[:-6] == second[:-6]
        assert first != second


class TestValidators:
    @pytest.mark.parametrize(
        "key", ["team", "example.com/team", "a.b-c_d", "paperclip.io/run-id", "x" * 63]
    )
    def test_valid_label_keys(self, key: str) -> None:
        assert labels.is_valid_label_key(key)

    @pytest.mark.parametrize(
        "key", ["", "-team", "team-", "Bad_Prefix!/x", "a/b/c", "x" * 64, "UPPER.com/x", "/x"]
    )
    def test_invalid_label_keys(self, key: str) -> None:
        assert not labels.is_valid_label_key(key)

    @pytest.mark.parametrize("value", ["", "a", "a.b_c-d", "A1"])
    def test_valid_label_values(self, value: str) -> None:
        assert labels.is_valid_label_value(value)

    @pytest.mark.parametrize("value", ["-a", "a-", "a b", "x" * 64, "a/b"])
    def test_invalid_label_values(self, value: str) -> None:
        assert not labels.is_valid_label_value(value)

    def test_dns_names(self) -> None:
        assert labels.is_dns_label("paperclip")
        assert not labels.is_dns_label("Paperclip")
        assert not labels.is_dns_label("a.b")
        assert labels.is_dns_subdomain("a.b-c")
        assert not labels.is_dns_subdomain("a..b")
        assert not labels.is_dns_subdomain("x" * 254)

    def test_env_names(self) -> None:
        assert labels.is_valid_env_name("PAPERCLIP_API_URL")
        assert labels.is_valid_env_name("my.var-1")
        assert not labels.is_valid_env_name("A=B")
        assert not labels.is_valid_env_name("A B")
        assert not labels.is_valid_env_name("")

    def test_secret_keys(self) -> None:
        assert labels.is_valid_secret_key("prompt.txt")
        assert not labels.is_valid_secret_key("a/b")

    def test_reserved_prefixes(self) -> None:
        assert labels.is_reserved_label_key("paperclip.io/x")
        assert labels.is_reserved_label_key("app.kubernetes.io/name")
        assert not labels.is_reserved_label_key("example.com/x")


class TestSelectors:
    def test_agent_selector_uses_the_sanitised_id(self) -> None:
        assert labels.agent_job_selector("Agent@Test") == (
            "paperclip.io/agent-id=AgentTest,paperclip.io/adapter-type=claude_k8s"
        )

    def test_agent_selector_refuses_an_unusable_id(self) -> None:
        with pytest.raises(ValueError, match="'@@@'"):
            labels.agent_job_selector("@@@")

    def test_managed_selector(self) -> None:
        assert labels.managed_jobs_selector() == (
            "app.kubernetes.io/managed-by=paperclip-supervisor,"
            "app.kubernetes.io/component=agent-job"
        )
