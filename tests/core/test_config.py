"""Daemon config files and per-agent settings: defaults, accepted forms, merging, and a clear
error — naming field, value and expectation — for every kind of bad value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from supervisor import config

EXAMPLE = """
db_path = "/data/events.db"
socket_path = "/run/ps/api.sock"
socket_mode = 0o600
allowed_uids = [1000, 1001]
allowed_gids = [2000]
namespace = "agents"
kubeconfig = "/etc/kube/config"
log_source = "file"
shared_volume_host_dir = "/mnt/paperclip"
keepalive_interval_sec = 10
pod_schedule_timeout_sec = 90.5
max_request_bytes = 4000000
max_prompt_bytes = 500000
log_format = "console"
delete_stray_jobs = true

[agent]
image = "ghcr.io/paperclipai/paperclip:1.2"
imagePullPolicy = "Always"
serviceAccountName = "agent-runner"
timeoutSec = 3600
graceSec = 30
maxTurnsPerRun = 200
model = "claude-sonnet-4-6"
effort = "high"
extraArgs = ["--debug"]
nodeSelector = "pool=agents"
labels = { team = "ml" }
tolerations = [{ key = "dedicated", operator = "Equal", value = "ai", effect = "NoSchedule" }]
resources = { requests = { cpu = "500m" }, limits = { memory = "12Gi" } }
env = { LOG_LEVEL = "debug" }
"""


def agent_error(field_toml: str) -> config.ConfigError:
    """The error for an ``[agent]`` table holding ``field_toml``."""
    with pytest.raises(config.ConfigError) as caught:
        config.parse_config(f"[agent]\n{field_toml}\n")
    return caught.value


def daemon_error(line: str) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as caught:
        config.parse_config(line + "\n")
    return caught.value


def resolve(
    defaults: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None
) -> config.AgentConfig:
    daemon = config.DaemonConfig(agent=msgspec.convert(defaults or {}, config.AgentSettings))
    settings = None if overrides is None else msgspec.convert(overrides, config.AgentSettings)
    return config.resolve_agent_config(daemon, settings)


class TestDefaults:
    def test_empty_file_gives_every_named_default(self) -> None:
        daemon = config.parse_config("")
        assert daemon.db_path == config.DEFAULT_DB_PATH
        assert daemon.socket_path == config.DEFAULT_SOCKET_PATH
        assert daemon.socket_mode == 0o660 == config.DEFAULT_SOCKET_MODE
        assert daemon.allowed_uids == ()
        assert daemon.namespace is None
        assert daemon.kubeconfig is None  # in-cluster
        assert daemon.log_source == "api"
        assert daemon.keepalive_interval_sec == 15
        assert daemon.pod_schedule_timeout_sec == 120
        assert daemon.log_format == "json"
        assert daemon.delete_stray_jobs is False
        assert daemon.max_prompt_bytes <= daemon.max_request_bytes

    def test_agent_defaults_are_the_seed_adapters(self) -> None:
        agent = resolve()
        assert agent.image is None and agent.namespace is None  # from the supervisor's pod
        assert agent.image_pull_policy == "IfNotPresent"
        assert agent.resources == config.ResourceRequirements(
            requests_cpu="1000m", requests_memory="2Gi", limits_cpu="4000m", limits_memory="8Gi"
        )
        assert agent.node_selector is None and agent.tolerations is None  # inherit
        assert agent.labels == {}
        assert agent.ttl_seconds_after_finished == 300
        assert agent.retain_jobs is False
        assert agent.reattach_orphaned_jobs is True
        assert agent.timeout_sec == 0
        assert agent.grace_sec == 60
        assert agent.max_turns_per_run == 0
        assert agent.dangerously_skip_permissions is True
        assert agent.workspace_mount_path == "/paperclip"
        assert agent.workspace_volume_claim is None
        assert agent.docker is None
        assert agent.mcp_servers == {} and agent.mcp_base_servers == {}

    def test_docker_defaults_when_enabled(self) -> None:
        assert resolve({"enableDocker": True}).docker == config.DockerSidecar(
            image="docker:28-dind", cpu_limit="2", memory_limit="2Gi"
        )


class TestParsing:
    def test_full_example(self) -> None:
        daemon = config.parse_config(EXAMPLE)
        assert daemon.socket_mode == 0o600
        assert daemon.allowed_uids == (1000, 1001)
        assert daemon.log_source == "file"
        assert daemon.pod_schedule_timeout_sec == 90.5
        agent = config.resolve_agent_config(daemon)
        assert agent.image == "ghcr.io/paperclipai/paperclip:1.2"
        assert agent.service_account_name == "agent-runner"
        assert agent.node_selector == {"pool": "agents"}
        assert agent.labels == {"team": "ml"}
        assert agent.tolerations == (
            {"key": "dedicated", "operator": "Equal", "value": "ai", "effect": "NoSchedule"},
        )
        assert agent.resources.requests_cpu == "500m"
        assert agent.resources.limits_memory == "12Gi"
        assert agent.extra_args == ("--debug",)
        assert agent.env == {"LOG_LEVEL": "debug"}

    def test_load_config_from_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "supervisor.toml"
        path.write_text(EXAMPLE)
        assert config.load_config(path) == config.parse_config(EXAMPLE)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(config.ConfigError, match="cannot read config file"):
            config.load_config(tmp_path / "nope.toml")

    def test_invalid_toml_names_the_line(self) -> None:
        with pytest.raises(config.ConfigError, match=r"invalid TOML.*line 2"):
            config.parse_config("a = 1\nb = = 2\n", source="x.toml")

    def test_source_named_in_errors(self) -> None:
        with pytest.raises(config.ConfigError, match=r"^x\.toml: agent\.timeoutSec"):
            config.parse_config("[agent]\ntimeoutSec = -1\n", source="x.toml")

    def test_not_utf8(self) -> None:
        with pytest.raises(config.ConfigError, match="not UTF-8"):
            config.parse_config(b"a = '\xff'")

    def test_blank_string_means_not_set(self) -> None:
        agent = resolve({"image": "", "namespace": "  ", "model": ""})
        assert agent.image is None
        assert agent.namespace is None
        assert agent.model is None

    def test_null_means_not_set(self) -> None:
        assert resolve({"timeoutSec": 5}, {"timeoutSec": None}).timeout_sec == 5


class TestDaemonErrors:
    def test_unknown_top_level_key(self) -> None:
        error = daemon_error("db_pth = 'x'")
        assert error.field == "db_pth"
        assert "unknown field" in error.message

    def test_wrong_type(self) -> None:
        error = daemon_error("keepalive_interval_sec = 'soon'")
        assert error.field == "keepalive_interval_sec"
        assert "'soon'" in error.message and "float" in error.message

    def test_non_positive_interval(self) -> None:
        error = daemon_error("keepalive_interval_sec = 0")
        assert error.field == "keepalive_interval_sec"
        assert "> 0" in error.message and "got 0" in error.message

    def test_socket_mode_out_of_range(self) -> None:
        error = daemon_error("socket_mode = 0o1777")
        assert error.field == "socket_mode"
        assert "1023" in error.message

    def test_negative_uid(self) -> None:
        error = daemon_error("allowed_uids = [1, -5]")
        assert error.field == "allowed_uids[1]"
        assert "-5" in error.message

    def test_log_source_choice(self) -> None:
        error = daemon_error("log_source = 'files'")
        assert error.field == "log_source"
        assert "'files'" in error.message and "did you mean 'file'" in error.message

    def test_log_format_choice(self) -> None:
        assert daemon_error("log_format = 'xml'").field == "log_format"

    def test_file_logs_need_the_host_dir(self) -> None:
        error = daemon_error("log_source = 'file'")
        assert error.field == "shared_volume_host_dir"
        assert "log_source is 'file'" in error.message

    def test_host_dir_must_be_absolute(self) -> None:
        assert daemon_error("shared_volume_host_dir = 'mnt'").field == "shared_volume_host_dir"

    @pytest.mark.parametrize("value", ["/abs", "../up", "a/../b", "", "a//b"])
    def test_relative_dirs_stay_inside_the_volume(self, value: str) -> None:
        error = daemon_error(f"run_log_dir = '{value}'")
        assert error.field == "run_log_dir"
        assert repr(value) in error.message

    def test_namespace(self) -> None:
        error = daemon_error("namespace = 'Agents_NS'")
        assert error.field == "namespace"
        assert "DNS-1123" in error.message

    def test_prompt_limit_within_request_limit(self) -> None:
        error = daemon_error("max_request_bytes = 1000\nmax_prompt_bytes = 2000")
        assert error.field == "max_prompt_bytes"

    def test_blank_paths(self) -> None:
        assert daemon_error("db_path = ' '").field == "db_path"
        assert daemon_error("kubeconfig = ''").field == "kubeconfig"


class TestAgentErrors:
    def test_unknown_key(self) -> None:
        error = agent_error('imagePulPolicy = "Always"')
        assert error.field == "agent.imagePulPolicy"
        assert "unknown field" in error.message

    def test_snake_case_key_is_unknown(self) -> None:
        assert agent_error("timeout_sec = 5").field == "agent.timeout_sec"

    def test_negative_timeout(self) -> None:
        error = agent_error("timeoutSec = -1")
        assert error.field == "agent.timeoutSec"
        assert ">= 0" in error.message and "got -1" in error.message

    def test_numeric_strings_are_not_numbers(self) -> None:
        error = agent_error('timeoutSec = "10"')
        assert error.field == "agent.timeoutSec"
        assert "int" in error.message and "'10'" in error.message

    def test_string_booleans_are_not_booleans(self) -> None:
        error = agent_error('retainJobs = "true"')
        assert error.field == "agent.retainJobs"
        assert "bool" in error.message

    def test_image_pull_policy(self) -> None:
        error = agent_error('imagePullPolicy = "Sometimes"')
        assert error.field == "agent.imagePullPolicy"
        assert "'Always', 'IfNotPresent', 'Never'" in error.message
        assert "'Sometimes'" in error.message

    def test_namespace(self) -> None:
        assert agent_error('namespace = "Team A"').field == "agent.namespace"

    def test_service_account(self) -> None:
        assert agent_error('serviceAccountName = "Bad_SA"').field == "agent.serviceAccountName"

    def test_image_with_spaces(self) -> None:
        assert agent_error('image = "my image"').field == "agent.image"

    def test_model_with_spaces(self) -> None:
        assert agent_error('model = "claude sonnet"').field == "agent.model"

    def test_extra_args_must_be_strings(self) -> None:
        error = agent_error("extraArgs = ['--a', 3]")
        assert error.field == "agent.extraArgs[1]"
        assert "got 3" in error.message

    @pytest.mark.parametrize("value", ["relative/path", "/a/../b", "/"])
    def test_mount_path(self, value: str) -> None:
        error = agent_error(f'workspaceMountPath = "{value}"')
        assert error.field == "agent.workspaceMountPath"
        assert repr(value) in error.message

    def test_cwd(self) -> None:
        assert agent_error('cwd = "work"').field == "agent.cwd"

    def test_claim_name(self) -> None:
        assert agent_error('workspaceVolumeClaim = "PVC!"').field == "agent.workspaceVolumeClaim"

    def test_ccrotate_accounts(self) -> None:
        assert agent_error('ccrotateAccounts = ["a,b"]').field == "agent.ccrotateAccounts[0]"


class TestResources:
    def test_nested_and_flat_forms_agree_b13(self) -> None:
        # The seed read only dotted keys while its docs showed the nested object.
        nested = resolve({"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}})
        flat = resolve({"resources.requests.cpu": "250m", "resources.requests.memory": "1Gi"})
        assert nested.resources == flat.resources
        assert nested.resources.requests_cpu == "250m"

    def test_numbers_are_quantities(self) -> None:
        agent = resolve({"resources": {"requests": {"cpu": 2}, "limits": {"cpu": 4.5}}})
        assert agent.resources.requests_cpu == "2"
        assert agent.resources.limits_cpu == "4.5"

    def test_same_quantity_in_both_forms_is_fine(self) -> None:
        agent = resolve({"resources": {"limits": {"cpu": "2"}}, "resources.limits.cpu": "2000m"})
        assert agent.resources.limits_cpu == "2"

    def test_contradicting_forms(self) -> None:
        error = agent_error('resources = {limits = {cpu = "2"}}\n"resources.limits.cpu" = "3"')
        assert error.field == "agent.resources.limits.cpu"
        assert "contradicts" in error.message

    @pytest.mark.parametrize("value", ['"lots"', '"1.5 Gi"', '"-1"', '"1Gb"', "true"])
    def test_bad_quantity(self, value: str) -> None:
        error = agent_error(f"resources = {{limits = {{memory = {value}}}}}")
        assert error.field == "agent.resources.limits.memory"
        assert "quantity" in error.message or "expected `int | float | str | null`" in error.message

    def test_bad_flat_quantity(self) -> None:
        error = agent_error('"resources.requests.cpu" = "fast"')
        assert error.field == "agent.resources.requests.cpu"
        assert "'fast'" in error.message

    def test_unknown_nested_resource_key(self) -> None:
        error = agent_error('resources = {requests = {gpu = "1"}}')
        assert error.field == "agent.resources.requests.gpu"

    def test_request_above_limit(self) -> None:
        error = agent_error('resources = {requests = {memory = "16Gi"}}')
        assert error.field == "agent.resources.requests.memory"
        assert "'16Gi'" in error.message and "'8Gi'" in error.message

    def test_limit_below_default_request_blames_the_limit(self) -> None:
        error = agent_error('"resources.limits.cpu" = "500m"')
        assert error.field == "agent.resources.limits.cpu"

    def test_overrides_merge_per_quantity(self) -> None:
        agent = resolve(
            {"resources": {"limits": {"memory": "16Gi"}}},
            {"resources.requests.cpu": "2"},
        )
        assert agent.resources == config.ResourceRequirements(
            requests_cpu="2", requests_memory="2Gi", limits_cpu="4000m", limits_memory="16Gi"
        )

    def test_override_error_names_the_override(self) -> None:
        with pytest.raises(config.ConfigError) as caught:
            resolve(None, {"resources": {"requests": {"cpu": "9"}}})
        assert caught.value.field == "config.resources.requests.cpu"

    @pytest.mark.parametrize(
        ("text", "value"),
        [("1500m", "1.5"), ("1Ki", "1024"), ("2Gi", str(2 * 1024**3)), ("1e3", "1000"), ("5", "5")],
    )
    def test_quantity_values(self, text: str, value: str) -> None:
        assert config.quantity_value(text) == Decimal(value)

    def test_docker_limits_not_below_the_sidecar_request(self) -> None:
        error = agent_error('enableDocker = true\ndockerCpuLimit = "50m"')
        assert error.field == "agent.dockerCpuLimit"
        assert "'100m'" in error.message
        assert agent_error('dockerMemoryLimit = "lots"').field == "agent.dockerMemoryLimit"


class TestKeyValueMaps:
    def test_key_value_lines(self) -> None:
        text = "# pool for agents\npool = agents\n\n  zone=eu-1a  \n"
        assert resolve({"nodeSelector": text}).node_selector == {"pool": "agents", "zone": "eu-1a"}

    def test_split_at_the_first_equals_sign(self) -> None:
        assert config.parse_key_value_map("f", "key=a=b") == {"key": "a=b"}

    def test_json_object_text(self) -> None:
        assert resolve({"nodeSelector": '{"pool": "agents"}'}).node_selector == {"pool": "agents"}

    def test_table(self) -> None:
        assert resolve({"labels": {"team": "ml"}}).labels == {"team": "ml"}

    def test_crlf_lines(self) -> None:
        assert resolve({"labels": "a=1\r\nb=2\r\n"}).labels == {"a": "1", "b": "2"}

    def test_empty_text_is_an_explicit_empty_selector(self) -> None:
        assert resolve({"nodeSelector": ""}).node_selector == {}

    def test_line_without_equals(self) -> None:
        error = agent_error('nodeSelector = "pool=a\\nnonsense"')
        assert error.field == "agent.nodeSelector line 2"
        assert "'nonsense'" in error.message and "key=value" in error.message

    def test_line_without_key(self) -> None:
        assert agent_error('labels = "=value"').field == "agent.labels line 1"

    def test_non_string_value(self) -> None:
        error = agent_error("labels = { team = 5 }")
        assert error.field == "agent.labels.team"
        assert "got 5" in error.message

    def test_json_non_string_value(self) -> None:
        assert agent_error("""labels = '{"a": [1]}'""").field == "agent.labels.a"

    def test_invalid_label_value(self) -> None:
        error = agent_error('labels = "team=machine learning"')
        assert error.field == "agent.labels.team"
        assert "'machine learning'" in error.message

    def test_invalid_label_key(self) -> None:
        error = agent_error('nodeSelector = { "bad key" = "x" }')
        assert error.field == "agent.nodeSelector.bad key"
        assert "label key" in error.message

    def test_parse_key_value_map_directly(self) -> None:
        assert config.parse_key_value_map("f", {"a": "1"}) == {"a": "1"}
        assert config.parse_key_value_map("f", "a=1") == {"a": "1"}


class TestTolerations:
    def test_b8_json_text_is_parsed(self) -> None:
        text = '[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]'
        assert resolve({"tolerations": text}).tolerations == (
            {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"},
        )

    def test_list(self) -> None:
        toleration = {"key": "k", "operator": "Equal", "value": "v", "tolerationSeconds": 30}
        assert resolve({"tolerations": [toleration]}).tolerations == (toleration,)

    def test_empty_text_and_list_are_explicit_empties(self) -> None:
        assert resolve({"tolerations": ""}).tolerations == ()
        assert resolve({"tolerations": []}).tolerations == ()

    def test_not_json(self) -> None:
        error = agent_error('tolerations = "key=gpu"')
        assert error.field == "agent.tolerations"
        assert "JSON array" in error.message

    def test_json_object_is_not_an_array(self) -> None:
        assert agent_error("""tolerations = '{"key": "gpu"}'""").field == "agent.tolerations"

    def test_typo_in_a_toleration(self) -> None:
        error = agent_error('tolerations = [{ key = "gpu", efect = "NoSchedule" }]')
        assert error.field == "agent.tolerations[0].efect"
        assert "unknown field" in error.message

    def test_bad_operator(self) -> None:
        error = agent_error('tolerations = [{ key = "gpu" }, { operator = "Equals" }]')
        assert error.field == "agent.tolerations[1].operator"
        assert "'Equals'" in error.message and "did you mean 'Equal'" in error.message

    def test_bad_effect(self) -> None:
        assert (
            agent_error('tolerations = [{ effect = "NoExec" }]').field
            == "agent.tolerations[0].effect"
        )

    def test_exists_with_value(self) -> None:
        error = agent_error('tolerations = [{ key = "a", operator = "Exists", value = "x" }]')
        assert error.field == "agent.tolerations[0].value"

    def test_wrong_type_inside(self) -> None:
        error = agent_error('tolerations = [{ tolerationSeconds = "30" }]')
        assert error.field == "agent.tolerations[0].tolerationSeconds"
        assert "'30'" in error.message

    def test_entry_not_an_object(self) -> None:
        assert agent_error('tolerations = ["gpu"]').field == "agent.tolerations[0]"


class TestEnvAndMcp:
    def test_env_value_must_be_a_string_and_is_never_shown(self) -> None:
        error = agent_error("env = { API_KEY = 12345678 }")
        assert error.field == "agent.env.API_KEY"
        assert "12345678" not in error.message
        assert "type int" in error.message

    def test_env_value_with_nul_is_never_shown(self) -> None:
        with pytest.raises(config.ConfigError) as caught:
            resolve({"env": {"TOKEN": "sk-secret\x00"}})
        assert "sk-secret" not in caught.value.message
        assert caught.value.field == "agent.env.TOKEN"

    def test_env_name(self) -> None:
        error = agent_error('env = { "A=B" = "x" }')
        assert error.field == "agent.env.A=B"
        assert "env var name" in error.message

    def test_mcp_servers_object_or_json(self) -> None:
        servers = {"gh": {"command": "gh-mcp"}}
        assert resolve({"mcpServers": servers}).mcp_servers == servers
        assert resolve({"mcpServers": '{"gh": {"command": "gh-mcp"}}'}).mcp_servers == servers

    def test_mcp_server_must_be_an_object(self) -> None:
        error = agent_error('mcpServers = { gh = "gh-mcp" }')
        assert error.field == "agent.mcpServers.gh"

    def test_mcp_servers_bad_json(self) -> None:
        assert agent_error('mcpServers = "{not json"').field == "agent.mcpServers"

    def test_mcp_base_config(self) -> None:
        agent = resolve({"mcpBaseConfig": '{"mcpServers": {"fs": {"command": "fs"}}}'})
        assert agent.mcp_base_servers == {"fs": {"command": "fs"}}
        assert resolve({"mcpBaseConfig": "{}"}).mcp_base_servers == {}

    def test_mcp_base_config_servers_must_be_an_object(self) -> None:
        error = agent_error("""mcpBaseConfig = '{"mcpServers": []}'""")
        assert error.field == "agent.mcpBaseConfig.mcpServers"


class TestMerging:
    def test_override_beats_default_beats_builtin(self) -> None:
        assert resolve({"graceSec": 10}, {"graceSec": 20}).grace_sec == 20
        assert resolve({"graceSec": 10}, {}).grace_sec == 10
        assert resolve(None, {}).grace_sec == 60

    def test_override_map_replaces_default_map(self) -> None:
        agent = resolve({"env": {"A": "1", "B": "2"}}, {"env": {"B": "3"}})
        assert agent.env == {"B": "3"}

    def test_explicit_empty_override_clears_inherited_scheduling(self) -> None:
        agent = resolve({"nodeSelector": "pool=a"}, {"nodeSelector": {}})
        assert agent.node_selector == {}
        assert resolve({"nodeSelector": "pool=a"}, {}).node_selector == {"pool": "a"}

    def test_blank_override_falls_back(self) -> None:
        assert resolve({"image": "img:1"}, {"image": ""}).image == "img:1"

    def test_docker_switch_and_settings_from_different_layers(self) -> None:
        agent = resolve({"dockerImage": "docker:27-dind"}, {"enableDocker": True})
        assert agent.docker == config.DockerSidecar(image="docker:27-dind")
        assert resolve({"enableDocker": True}, {"enableDocker": False}).docker is None

    def test_check_agent_settings_checks_only_what_is_set(self) -> None:
        config.check_agent_settings(config.AgentSettings())
        with pytest.raises(config.ConfigError) as caught:
            config.check_agent_settings(config.AgentSettings(namespace="A B"), prefix="config")
        assert caught.value.field == "config.namespace"
        assert "'A B'" in caught.value.message


class TestDescribeValidationError:
    def test_dotted_field_names_are_resolved(self) -> None:
        raw = {"agent": {"resources.limits.cpu": ["x"]}}
        with pytest.raises(msgspec.ValidationError) as caught:
            msgspec.convert(raw, config.DaemonConfig)
        field, message = config.describe_validation_error(caught.value, raw)
        assert field == "agent.resources.limits.cpu"
        assert "['x']" in message

    def test_long_values_are_shortened(self) -> None:
        assert len(config.show_value("x" * 1000)) <= 80

    def test_join_field(self) -> None:
        assert config.join_field("config", "env.X") == "config.env.X"
        assert config.join_field("tolerations", "[0].key") == "tolerations[0].key"
        assert config.join_field("", "x") == "x"
