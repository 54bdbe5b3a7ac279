"""The Job manifest builder: a port of the seed adapter's manifest test inventory (reference
section 10, job-manifest.test.ts) adapted to the request shape, the appendix-B fixes, and the
shell scripts run for real under /bin/sh. Every manifest goes through the `build` fixture, which
validates it against the Kubernetes 1.37 schemas."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import string
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor import config, labels
from supervisor.k8s import manifests
from supervisor.selfpod import SelfPod, read_self_pod

Build = Callable[..., manifests.BuiltJob]

SHELLS = [shell for shell in ("sh", "dash", "bash") if shutil.which(shell)]


def pod_spec(built: manifests.BuiltJob) -> dict[str, Any]:
    spec: dict[str, Any] = built.job["spec"]["template"]["spec"]
    return spec


def container(built: manifests.BuiltJob, name: str) -> dict[str, Any]:
    spec = pod_spec(built)
    for candidate in spec.get("initContainers", []) + spec["containers"]:
        if candidate["name"] == name:
            found: dict[str, Any] = candidate
            return found
    raise AssertionError(f"no container {name}")


def main_script(built: manifests.BuiltJob) -> str:
    command = container(built, "claude")["command"]
    assert command[:2] == ["sh", "-c"]
    return str(command[2])


def env_of(built: manifests.BuiltJob, name: str = "claude") -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container(built, name).get("env", [])}


def env_value(built: manifests.BuiltJob, var: str) -> str:
    return str(env_of(built)[var]["value"])


def volume_names(built: manifests.BuiltJob) -> list[str]:
    return [v["name"] for v in pod_spec(built)["volumes"]]


def mounts(built: manifests.BuiltJob, name: str = "claude") -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container(built, name).get("volumeMounts", [])}


# ---------------------------------------------------------------------------------------------
class TestJobNaming:
    def test_uses_ac_prefix(self, build: Build) -> None:
        assert build().job_name.startswith("ac-")

    def test_includes_agent_and_run_slugs(self, build: Build) -> None:
        assert build().job_name.startswith("ac-agent-abc-run-abc12345-")

    def test_slugs_are_cut_to_16_characters(self, build: Build, make_request: Any) -> None:
        request = make_request(runId="r" * 100, agent={"id": "a" * 100})
        assert build(request=request).job_name.startswith("ac-aaaaaaaaaaaaaaaa-rrrrrrrrrrrrrrrr-")

    def test_hash_suffix_matches_the_seed_adapter(self, build: Build, make_request: Any) -> None:
        # Same names as the seed adapter for the same ids, so both name schemes agree.
        assert build().job_name == "ac-agent-abc-run-abc12345-8a7510"
        request = make_request(runId="r" * 100, agent={"id": "a" * 100})
        assert build(request=request).job_name == "ac-aaaaaaaaaaaaaaaa-rrrrrrrrrrrrrrrr-b714c8"

    def test_is_deterministic(self, build: Build) -> None:
        assert build().job == build().job

    def test_different_runs_get_different_names(self, build: Build, make_request: Any) -> None:
        # These two run ids have the same slug; only the hash tells them apart.
        first = build(request=make_request(runId="run_1")).job_name
        second = build(request=make_request(runId="run1")).job_name
        assert first != second

    def test_stays_within_63_characters(self, build: Build, make_request: Any) -> None:
        request = make_request(runId="x" * 500, agent={"id": "y" * 500})
        assert len(build(request=request).job_name) <= 63


class TestJobSpec:
    def test_backoff_limit_is_zero(self, build: Build) -> None:
        assert build().job["spec"]["backoffLimit"] == 0

    def test_active_deadline_when_timeout_set(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(timeoutSec=600))
        assert built.job["spec"]["activeDeadlineSeconds"] == 600

    def test_timeout_from_agent_defaults(self, build: Build) -> None:
        built = build(defaults={"timeoutSec": 120})
        assert built.job["spec"]["activeDeadlineSeconds"] == 120

    def test_no_active_deadline_when_timeout_zero(self, build: Build) -> None:
        assert "activeDeadlineSeconds" not in build().job["spec"]

    def test_ttl_defaults_to_300(self, build: Build) -> None:
        assert build().job["spec"]["ttlSecondsAfterFinished"] == 300

    def test_ttl_configured(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"ttlSecondsAfterFinished": 30}))
        assert built.job["spec"]["ttlSecondsAfterFinished"] == 30

    def test_restart_policy_never(self, build: Build) -> None:
        assert pod_spec(build())["restartPolicy"] == "Never"


class TestLabels:
    def test_required_labels(self, build: Build) -> None:
        job_labels = build().job["metadata"]["labels"]
        assert job_labels == {
            "app.kubernetes.io/managed-by": "paperclip-supervisor",
            "app.kubernetes.io/component": "agent-job",
            "paperclip.io/agent-id": "agent-abc",
            "paperclip.io/adapter-type": "claude_k8s",
            "paperclip.io/run-id": "run-abc12345",
            "paperclip.io/company-id": "co1",
        }

    def test_pod_template_has_the_same_labels(self, build: Build) -> None:
        built = build(defaults={"labels": {"team": "ml"}})
        assert (
            built.job["spec"]["template"]["metadata"]["labels"] == built.job["metadata"]["labels"]
        )

    def test_extra_labels_merged_with_required(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"labels": "team=ml\ncost-center=42"}))
        job_labels = built.job["metadata"]["labels"]
        assert job_labels["team"] == "ml"
        assert job_labels["cost-center"] == "42"
        assert job_labels["paperclip.io/agent-id"] == "agent-abc"

    def test_task_id_label_from_task_key(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(taskKey="task:xyz/123"))
        assert built.job["metadata"]["labels"]["paperclip.io/task-id"] == "taskxyz123"

    def test_session_id_label_when_resuming(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(sessionId="sess_test123"))
        assert built.job["metadata"]["labels"]["paperclip.io/session-id"] == "sess_test123"

    def test_no_task_or_session_labels_without_them(self, build: Build) -> None:
        job_labels = build().job["metadata"]["labels"]
        assert "paperclip.io/task-id" not in job_labels
        assert "paperclip.io/session-id" not in job_labels

    @pytest.mark.parametrize(
        "key", ["paperclip.io/run-id", "paperclip.io/anything", "app.kubernetes.io/name"]
    )
    def test_reserved_prefix_user_labels_are_dropped(
        self, build: Build, make_request: Any, key: str
    ) -> None:
        built = build(request=make_request(config={"labels": {key: "evil", "ok": "yes"}}))
        assert built.job["metadata"]["labels"].get(key) != "evil"
        assert built.job["metadata"]["labels"]["ok"] == "yes"
        assert manifests.SkippedLabel(key, "reserved prefix") in built.skipped_labels

    def test_skipped_labels_lists_every_dropped_key(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                config={"labels": {"paperclip.io/a": "1", "app.kubernetes.io/b": "2", "c": "3"}}
            )
        )
        assert [s.key for s in built.skipped_labels] == ["paperclip.io/a", "app.kubernetes.io/b"]

    def test_no_skipped_labels_normally(self, build: Build) -> None:
        assert build().skipped_labels == ()

    def test_b23_skipped_labels_say_why(self, build: Build, make_request: Any) -> None:
        # The seed called every skipped label "reserved prefix", even unsanitisable system ones.
        # The API refuses such ids, so build a request that bypassed it.
        request = msgspec.structs.replace(
            make_request(config={"labels": {"paperclip.io/x": "1"}}), task_key="::"
        )
        built = build(request=request)
        assert built.skipped_labels == (
            manifests.SkippedLabel(
                "paperclip.io/task-id", "its value has no characters valid in a label"
            ),
            manifests.SkippedLabel("paperclip.io/x", "reserved prefix"),
        )
        assert "paperclip.io/task-id" not in built.job["metadata"]["labels"]


class TestSystemLabelSanitising:
    def test_agent_id_with_at_sign(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "Agent@Test"}))
        assert built.job["metadata"]["labels"]["paperclip.io/agent-id"] == "AgentTest"

    def test_agent_id_with_spaces(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "my agent 1"}))
        assert built.job["metadata"]["labels"]["paperclip.io/agent-id"] == "myagent1"

    def test_raw_ids_kept_as_annotations(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "Agent@Test"}, runId="run/42"))
        annotations = built.job["metadata"]["annotations"]
        assert annotations["paperclip.io/agent-id"] == "Agent@Test"
        assert annotations["paperclip.io/run-id"] == "run/42"

    def test_unsanitisable_run_id_is_refused(self, make_request: Any, self_pod: SelfPod) -> None:
        # The API refuses such ids; the builder refuses too rather than drop the run-id label.
        request = make_request()
        bad = msgspec.structs.replace(request, run_id="@@@")
        agent = config.resolve_agent_config(config.DaemonConfig())
        with pytest.raises(manifests.ManifestError, match="run id '@@@'"):
            manifests.build_job(manifests.JobSpec(request=bad, agent=agent, self_pod=self_pod))

    def test_selector_matches_the_agent_label(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "user@example.com"}))
        selector = labels.agent_job_selector("user@example.com")
        for term in selector.split(","):
            key, value = term.split("=")
            assert built.job["metadata"]["labels"][key] == value


class TestAnnotations:
    def test_adapter_type_and_agent_name(self, build: Build) -> None:
        annotations = build().job["metadata"]["annotations"]
        assert annotations["paperclip.io/adapter-type"] == "claude_k8s"
        assert annotations["paperclip.io/agent-name"] == "Test Agent"

    def test_agent_name_omitted_when_unknown(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "agent-abc"}))
        assert "paperclip.io/agent-name" not in built.job["metadata"]["annotations"]


class TestPodSpec:
    def test_security_context(self, build: Build) -> None:
        assert pod_spec(build())["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
            "fsGroupChangePolicy": "OnRootMismatch",
        }

    def test_inherits_the_supervisor_pods_security_context(
        self, build: Build, self_pod: SelfPod
    ) -> None:
        pod = _with(self_pod, security_context={"runAsUser": 2000, "fsGroup": 3000})
        context = pod_spec(build(self_pod=pod))["securityContext"]
        assert context["runAsUser"] == 2000
        assert context["fsGroup"] == 3000
        assert context["fsGroupChangePolicy"] == "OnRootMismatch"

    def test_inherited_root_user_drops_the_non_root_default(
        self, build: Build, self_pod: SelfPod
    ) -> None:
        pod = _with(self_pod, security_context={"runAsUser": 0})
        context = pod_spec(build(self_pod=pod))["securityContext"]
        assert context["runAsUser"] == 0
        assert "runAsNonRoot" not in context

    def test_container_security_context(self, build: Build) -> None:
        for name in ("claude", "write-prompt"):
            assert container(build(), name)["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": False,
            }

    def test_image_pull_secrets_from_self_pod(self, build: Build) -> None:
        assert pod_spec(build())["imagePullSecrets"] == [{"name": "regcred"}]

    def test_image_pull_secrets_omitted_when_empty(self, build: Build, self_pod: SelfPod) -> None:
        assert "imagePullSecrets" not in pod_spec(
            build(self_pod=_with(self_pod, image_pull_secrets=()))
        )

    def test_dns_config_from_self_pod(self, build: Build, self_pod: SelfPod) -> None:
        dns = {"options": [{"name": "ndots", "value": "2"}]}
        assert pod_spec(build(self_pod=_with(self_pod, dns_config=dns)))["dnsConfig"] == dns

    def test_dns_config_omitted_when_absent(self, build: Build) -> None:
        assert "dnsConfig" not in pod_spec(build())

    def test_affinity_inherited(self, build: Build, self_pod: SelfPod) -> None:
        affinity = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}
                    ]
                }
            }
        }
        assert pod_spec(build(self_pod=_with(self_pod, affinity=affinity)))["affinity"] == affinity

    def test_service_account_when_configured(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"serviceAccountName": "agent-runner"}))
        assert pod_spec(built)["serviceAccountName"] == "agent-runner"

    def test_service_account_omitted_by_default(self, build: Build) -> None:
        assert "serviceAccountName" not in pod_spec(build())


class TestNamespace:
    def test_self_pod_namespace_by_default(self, build: Build) -> None:
        assert build().namespace == "paperclip"

    def test_daemon_namespace_beats_self_pod(self, build: Build) -> None:
        assert build(default_namespace="agents").namespace == "agents"

    def test_agent_namespace_beats_both(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"namespace": "team-a"}), default_namespace="x")
        assert built.namespace == built.job["metadata"]["namespace"] == "team-a"

    def test_default_outside_a_cluster(self, build: Build) -> None:
        assert build(self_pod=None, defaults={"image": "img:1"}).namespace == "default"


class TestWritePromptInitContainer:
    def test_busybox_image(self, build: Build) -> None:
        init = container(build(), "write-prompt")
        assert init["image"] == "busybox:1.36"
        assert init["imagePullPolicy"] == "IfNotPresent"

    def test_writes_prompt_content_with_printf(self, build: Build) -> None:
        init = container(build(), "write-prompt")
        assert "printf '%s' \"$PROMPT_CONTENT\" > /tmp/prompt/prompt.txt" in init["command"][2]
        assert "echo" not in init["command"][2]

    def test_prompt_travels_in_env(self, build: Build) -> None:
        assert env_of(build(), "write-prompt")["PROMPT_CONTENT"]["value"] == (
            "You are agent agent-abc (Test Agent). Continue your Paperclip work."
        )

    def test_mounts_only_the_prompt_volume(self, build: Build) -> None:
        assert list(mounts(build(), "write-prompt")) == ["/tmp/prompt"]

    def test_resources(self, build: Build) -> None:
        assert container(build(), "write-prompt")["resources"] == {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        }

    @pytest.mark.parametrize("shell", SHELLS)
    def test_script_writes_the_prompt_byte_for_byte(
        self, build: Build, make_request: Any, tmp_path: Path, shell: str
    ) -> None:
        # busybox `echo` once ate `\c` and truncated prompts (seed 5c28e6c).
        prompt = "-n line one \\c not the end\n%s %d \\\\ 'quoted' \"double\" $HOME `x`\n\n"
        built = build(request=make_request(prompt=prompt))
        script = container(built, "write-prompt")["command"][2]
        (tmp_path / "prompt").mkdir()
        env = {"PATH": os.environ["PATH"], "PROMPT_CONTENT": prompt}
        result = subprocess.run(
            [shell, "-c", script.replace("/tmp/prompt", str(tmp_path / "prompt"))],
            env=env,
            capture_output=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "prompt" / "prompt.txt").read_text() == prompt


class TestClaudeContainer:
    def test_named_claude(self, build: Build) -> None:
        assert pod_spec(build())["containers"][0]["name"] == "claude"

    def test_self_pod_image_by_default(self, build: Build) -> None:
        assert container(build(), "claude")["image"] == "paperclipai/paperclip:latest"

    def test_configured_image_wins(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"image": "ghcr.io/me/claude:2"}))
        assert container(built, "claude")["image"] == "ghcr.io/me/claude:2"

    def test_no_image_anywhere_is_an_error(self, make_request: Any) -> None:
        agent = config.resolve_agent_config(config.DaemonConfig())
        with pytest.raises(manifests.ManifestError, match="no image"):
            manifests.build_job(manifests.JobSpec(request=make_request(), agent=agent))

    def test_image_pull_policy_configured(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"imagePullPolicy": "Always"}))
        assert container(built, "claude")["imagePullPolicy"] == "Always"

    def test_image_pull_policy_defaults_to_if_not_present(self, build: Build) -> None:
        assert container(build(), "claude")["imagePullPolicy"] == "IfNotPresent"

    def test_working_dir_defaults_to_the_mount_path(self, build: Build, make_request: Any) -> None:
        assert container(build(), "claude")["workingDir"] == "/paperclip"
        built = build(request=make_request(config={"workspaceMountPath": "/work"}))
        assert container(built, "claude")["workingDir"] == "/work"

    def test_configured_cwd(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"cwd": "/paperclip/projects/x"}))
        assert container(built, "claude")["workingDir"] == "/paperclip/projects/x"


class TestVolumes:
    def test_prompt_empty_dir(self, build: Build) -> None:
        volumes = {v["name"]: v for v in pod_spec(build())["volumes"]}
        assert volumes["prompt"] == {"name": "prompt", "emptyDir": {}}
        assert mounts(build())["/tmp/prompt"]["name"] == "prompt"

    def test_inherited_claim_mounted_at_the_workspace(self, build: Build) -> None:
        volumes = {v["name"]: v for v in pod_spec(build())["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "paperclip-data"}
        assert mounts(build())["/paperclip"] == {"name": "data", "mountPath": "/paperclip"}

    def test_configured_claim_beats_the_inherited_one(
        self, build: Build, make_request: Any
    ) -> None:
        built = build(request=make_request(config={"workspaceVolumeClaim": "other-pvc"}))
        volumes = {v["name"]: v for v in pod_spec(built)["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "other-pvc"}

    def test_inherited_sub_path_is_kept(
        self, build: Build, self_pod_object: dict[str, Any]
    ) -> None:
        self_pod_object["spec"]["containers"][1]["volumeMounts"][0]["subPath"] = "tenant-a"
        built = build(self_pod=read_self_pod(self_pod_object))
        assert mounts(built)["/paperclip"]["subPath"] == "tenant-a"

    def test_no_data_volume_without_a_claim(self, build: Build, self_pod: SelfPod) -> None:
        built = build(self_pod=_with(self_pod, pvc_mounts=()))
        assert "data" not in volume_names(built)
        assert "/paperclip" not in mounts(built)

    def test_claim_mounted_elsewhere_is_not_the_workspace(
        self, build: Build, make_request: Any
    ) -> None:
        # The self pod mounts its claim at /paperclip; a run using /work finds no claim there.
        built = build(request=make_request(config={"workspaceMountPath": "/work"}))
        assert "data" not in volume_names(built)

    def test_secret_volumes_mounted_read_only(self, build: Build) -> None:
        built = build()
        volumes = {v["name"]: v for v in pod_spec(built)["volumes"]}
        assert volumes["gcp-creds"]["secret"] == {
            "secretName": "gcp-sa",
            "defaultMode": 0o400,
            "optional": True,
        }
        assert mounts(built)["/var/secrets/gcp"] == {
            "name": "gcp-creds",
            "mountPath": "/var/secrets/gcp",
            "readOnly": True,
        }

    def test_non_secret_volumes_are_not_inherited(self, build: Build) -> None:
        assert "tmp" not in volume_names(build())

    def test_inherited_volume_named_like_ours_is_renamed(
        self, build: Build, self_pod_object: dict[str, Any]
    ) -> None:
        spec = self_pod_object["spec"]
        spec["volumes"].append({"name": "prompt", "secret": {"secretName": "s"}})
        spec["containers"][1]["volumeMounts"].append({"name": "prompt", "mountPath": "/etc/s"})
        built = build(self_pod=read_self_pod(self_pod_object))
        assert mounts(built)["/etc/s"]["name"].startswith("inherited-secret-")
        assert mounts(built)["/tmp/prompt"]["name"] == "prompt"

    def test_inherited_secret_on_our_mount_path_is_skipped(
        self, build: Build, self_pod_object: dict[str, Any]
    ) -> None:
        spec = self_pod_object["spec"]
        spec["volumes"].append({"name": "clash", "secret": {"secretName": "s"}})
        spec["containers"][1]["volumeMounts"].append({"name": "clash", "mountPath": "/tmp/prompt"})
        built = build(self_pod=read_self_pod(self_pod_object))
        assert "clash" not in volume_names(built)


class TestEnvironment:
    def test_home_is_the_workspace_mount(self, build: Build, make_request: Any) -> None:
        assert env_value(build(), "HOME") == "/paperclip"
        built = build(request=make_request(config={"workspaceMountPath": "/work"}))
        assert env_value(built, "HOME") == "/work"

    def test_inherits_literal_env(self, build: Build) -> None:
        assert env_value(build(), "PAPERCLIP_API_URL") == "http://paperclip:8080"

    def test_empty_and_sidecar_env_not_inherited(self, build: Build) -> None:
        env = env_of(build())
        assert "EMPTY_ONE" not in env
        assert "MESH_ONLY" not in env

    def test_supervisor_settings_not_inherited(self, build: Build) -> None:
        assert "PAPERCLIP_SUPERVISOR_DB" not in env_of(build())

    def test_inherits_auth_token_as_a_reference(self, build: Build) -> None:
        assert env_of(build())["ANTHROPIC_AUTH_TOKEN"] == {
            "name": "ANTHROPIC_AUTH_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "llm", "key": "token"}},
        }

    def test_agent_env_overrides_inherited(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"env": {"PAPERCLIP_API_URL": "http://x"}}))
        assert env_value(built, "PAPERCLIP_API_URL") == "http://x"

    def test_request_env_overrides_inherited(self, build: Build, make_request: Any) -> None:
        # The seed let the inherited PAPERCLIP_API_URL win over a computed default; here the
        # caller sends the real one, so the caller's value wins.
        built = build(request=make_request(env={"PAPERCLIP_API_URL": "http://real:3100"}))
        assert env_value(built, "PAPERCLIP_API_URL") == "http://real:3100"

    def test_agent_env_overrides_request_env(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(env={"X": "request"}, config={"env": {"X": "agent"}}))
        assert env_value(built, "X") == "agent"

    def test_api_key_passed_as_a_plain_value(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(env={"PAPERCLIP_API_KEY": "jwt-for-run"}))
        assert env_value(built, "PAPERCLIP_API_KEY") == "jwt-for-run"

    def test_run_identity(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(taskKey="task-9"))
        assert env_value(built, "PAPERCLIP_RUN_ID") == "run-abc12345"
        assert env_value(built, "PAPERCLIP_AGENT_ID") == "agent-abc"
        assert env_value(built, "PAPERCLIP_COMPANY_ID") == "co1"
        assert env_value(built, "PAPERCLIP_TASK_ID") == "task-9"

    def test_run_identity_cannot_be_overridden(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                env={"PAPERCLIP_RUN_ID": "spoof"}, config={"env": {"PAPERCLIP_AGENT_ID": "x"}}
            )
        )
        assert env_value(built, "PAPERCLIP_RUN_ID") == "run-abc12345"
        assert env_value(built, "PAPERCLIP_AGENT_ID") == "agent-abc"

    def test_no_task_id_without_a_task(self, build: Build) -> None:
        assert "PAPERCLIP_TASK_ID" not in env_of(build())

    def test_secret_env_becomes_secret_key_ref(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(secretEnv={"GH_TOKEN": {"secret": "github", "key": "token"}})
        )
        assert env_of(built)["GH_TOKEN"] == {
            "name": "GH_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "github", "key": "token"}},
        }

    def test_literal_overrides_inherited_reference(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(env={"ANTHROPIC_AUTH_TOKEN": "literal"}))
        assert env_of(built)["ANTHROPIC_AUTH_TOKEN"] == {
            "name": "ANTHROPIC_AUTH_TOKEN",
            "value": "literal",
        }

    def test_inherited_literal_beats_inherited_reference(
        self, build: Build, self_pod: SelfPod
    ) -> None:
        pod = _with(
            self_pod,
            env=(("TOKEN", "lit"),),
            env_value_from=({"name": "TOKEN", "valueFrom": {"fieldRef": {"fieldPath": "x"}}},),
        )
        assert env_of(build(self_pod=pod))["TOKEN"] == {"name": "TOKEN", "value": "lit"}

    def test_env_from_copied_from_self_pod(self, build: Build) -> None:
        assert container(build(), "claude")["envFrom"] == [
            {"secretRef": {"name": "paperclip-secrets"}}
        ]

    def test_env_from_omitted_when_none(self, build: Build, self_pod: SelfPod) -> None:
        assert "envFrom" not in container(build(self_pod=_with(self_pod, env_from=())), "claude")

    def test_b11_no_duplicate_env_names(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                env={"DOCKER_HOST": "tcp://elsewhere", "HOME": "/root"},
                config={"enableDocker": True, "env": {"HOME": "/x"}},
            )
        )
        names = [e["name"] for e in container(built, "claude")["env"]]
        assert names.count("DOCKER_HOST") == 1
        assert names.count("HOME") == 1
        assert env_value(built, "DOCKER_HOST") == "unix:///var/run/docker.sock"
        assert env_value(built, "HOME") == "/paperclip"


class TestResources:
    def test_defaults(self, build: Build) -> None:
        assert container(build(), "claude")["resources"] == {
            "requests": {"cpu": "1000m", "memory": "2Gi"},
            "limits": {"cpu": "4000m", "memory": "8Gi"},
        }

    def test_overrides_nested_form(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                config={"resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "16Gi"}}}
            )
        )
        assert container(built, "claude")["resources"] == {
            "requests": {"cpu": "500m", "memory": "2Gi"},
            "limits": {"cpu": "4000m", "memory": "16Gi"},
        }

    def test_overrides_flat_dotted_form(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                config={"resources.requests.memory": "1Gi", "resources.limits.cpu": "2"}
            )
        )
        assert container(built, "claude")["resources"] == {
            "requests": {"cpu": "1000m", "memory": "1Gi"},
            "limits": {"cpu": "2", "memory": "8Gi"},
        }


class TestScheduling:
    def test_node_selector_from_config(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"nodeSelector": "pool=agents\nzone=a"}))
        assert pod_spec(built)["nodeSelector"] == {"pool": "agents", "zone": "a"}

    def test_tolerations_from_config(self, build: Build, make_request: Any) -> None:
        toleration = {
            "key": "dedicated",
            "operator": "Equal",
            "value": "ai",
            "effect": "NoSchedule",
        }
        built = build(request=make_request(config={"tolerations": [toleration]}))
        assert pod_spec(built)["tolerations"] == [toleration]

    def test_b8_tolerations_text_is_parsed_not_dropped(
        self, build: Build, make_request: Any
    ) -> None:
        text = '[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]'
        built = build(request=make_request(config={"tolerations": text}))
        assert pod_spec(built)["tolerations"] == [
            {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]

    def test_omitted_when_empty(self, build: Build) -> None:
        spec = pod_spec(build())
        assert "nodeSelector" not in spec
        assert "tolerations" not in spec

    def test_inherits_node_selector_and_tolerations(self, build: Build, self_pod: SelfPod) -> None:
        toleration = {"key": "dedicated", "operator": "Exists"}
        pod = _with(self_pod, node_selector={"pool": "paperclip"}, tolerations=(toleration,))
        spec = pod_spec(build(self_pod=pod))
        assert spec["nodeSelector"] == {"pool": "paperclip"}
        assert spec["tolerations"] == [toleration]

    def test_configured_values_replace_inherited(
        self, build: Build, make_request: Any, self_pod: SelfPod
    ) -> None:
        pod = _with(self_pod, node_selector={"pool": "paperclip", "other": "x"})
        built = build(
            request=make_request(config={"nodeSelector": {"pool": "agents"}}), self_pod=pod
        )
        assert pod_spec(built)["nodeSelector"] == {"pool": "agents"}

    def test_explicit_empty_opts_out_of_inheritance(
        self, build: Build, make_request: Any, self_pod: SelfPod
    ) -> None:
        pod = _with(
            self_pod, node_selector={"pool": "paperclip"}, tolerations=({"operator": "Exists"},)
        )
        built = build(
            request=make_request(config={"nodeSelector": "", "tolerations": []}), self_pod=pod
        )
        assert "nodeSelector" not in pod_spec(built)
        assert "tolerations" not in pod_spec(built)


class TestClaudeArgs:
    def test_base_flags(self, build: Build) -> None:
        assert build().claude_args == (
            "--print",
            "-",
            "--output-format",
            "stream-json",
            "--verbose",
            "--dangerously-skip-permissions",
        )

    def test_model_effort_and_max_turns(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(config={"model": "claude-opus-4-8", "effort": "high"}),
            defaults={"maxTurnsPerRun": 50},
        )
        args = built.claude_args
        assert args[args.index("--model") + 1] == "claude-opus-4-8"
        assert args[args.index("--effort") + 1] == "high"
        assert args[args.index("--max-turns") + 1] == "50"

    def test_b13_no_max_turns_by_default(self, build: Build) -> None:
        # The seed's UI claimed a default of 1000 while its code used 0 (no flag); 0 it is.
        assert "--max-turns" not in build().claude_args

    def test_request_claude_options_beat_config(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                claude={"model": "m-request", "maxTurns": 7, "dangerouslySkipPermissions": False},
                config={"model": "m-config", "maxTurnsPerRun": 9},
            )
        )
        args = built.claude_args
        assert args[args.index("--model") + 1] == "m-request"
        assert args[args.index("--max-turns") + 1] == "7"
        assert "--dangerously-skip-permissions" not in args

    def test_resume_when_session_given(self, build: Build, make_request: Any) -> None:
        args = build(request=make_request(sessionId="sess_test123")).claude_args
        assert args[5:7] == ("--resume", "sess_test123")

    def test_skip_permissions_can_be_turned_off(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"dangerouslySkipPermissions": False}))
        assert "--dangerously-skip-permissions" not in built.claude_args

    def test_instructions_file_on_a_fresh_session(
        self, build: Build, make_request: Any, make_bundle: Any
    ) -> None:
        bundle = make_bundle()
        args = build(request=make_request(instructions="Be kind."), bundle=bundle).claude_args
        assert args[args.index("--append-system-prompt-file") + 1] == bundle.instructions_pod_path

    def test_no_instructions_file_on_resume(
        self, build: Build, make_request: Any, make_bundle: Any
    ) -> None:
        request = make_request(instructions="Be kind.", sessionId="s1")
        args = build(request=request, bundle=make_bundle()).claude_args
        assert "--append-system-prompt-file" not in args
        assert "--add-dir" in args  # skills stay available on resume

    def test_add_dir_with_a_bundle(self, build: Build, make_request: Any, make_bundle: Any) -> None:
        bundle = make_bundle(instructions=False)
        args = build(bundle=bundle).claude_args
        assert args[args.index("--add-dir") + 1] == bundle.pod_dir

    def test_no_add_dir_without_a_bundle(self, build: Build) -> None:
        assert "--add-dir" not in build().claude_args

    def test_b15_no_instructions_flag_without_an_instructions_file(
        self, build: Build, make_bundle: Any
    ) -> None:
        # The seed passed the raw configured path even when reading it had failed.
        args = build(bundle=make_bundle(instructions=False)).claude_args
        assert "--append-system-prompt-file" not in args

    def test_instructions_without_a_bundle_is_an_error(
        self, make_request: Any, self_pod: SelfPod
    ) -> None:
        agent = config.resolve_agent_config(config.DaemonConfig())
        spec = manifests.JobSpec(
            request=make_request(instructions="x"), agent=agent, self_pod=self_pod
        )
        with pytest.raises(manifests.ManifestError, match="no prompt bundle"):
            manifests.build_job(spec)

    def test_bundle_without_a_volume_is_an_error(
        self, make_request: Any, self_pod: SelfPod, make_bundle: Any
    ) -> None:
        agent = config.resolve_agent_config(config.DaemonConfig())
        spec = manifests.JobSpec(
            request=make_request(),
            agent=agent,
            self_pod=_with(self_pod, pvc_mounts=()),
            bundle=make_bundle(),
        )
        with pytest.raises(manifests.ManifestError, match="workspace volume"):
            manifests.build_job(spec)

    def test_extra_args_come_last(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                config={"extraArgs": ["--foo", "bar baz"], "mcpServers": {"a": {}}}
            )
        )
        assert built.claude_args[-2:] == ("--foo", "bar baz")

    def test_flag_order_matches_the_seed(
        self, build: Build, make_request: Any, make_bundle: Any
    ) -> None:
        request = make_request(
            instructions="x",
            claude={"model": "m", "effort": "e", "maxTurns": 3, "extraArgs": ["--x"]},
            config={"mcpServers": {"s": {"command": "c"}}},
        )
        args = list(build(request=request, bundle=make_bundle()).claude_args)
        flags = [a for a in args if a.startswith("--")]
        assert flags == [
            "--print",
            "--output-format",
            "--verbose",
            "--dangerously-skip-permissions",
            "--model",
            "--effort",
            "--max-turns",
            "--append-system-prompt-file",
            "--add-dir",
            "--mcp-config",
            "--strict-mcp-config",
            "--x",
        ]


class TestMcp:
    def test_no_mcp_config_when_no_servers(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"mcpBaseConfig": {"mcpServers": {"a": {}}}}))
        assert "--mcp-config" not in built.claude_args
        assert "MCP_CONFIG" not in env_of(built, "write-prompt")

    def test_per_agent_servers_merge_over_the_base(self, build: Build, make_request: Any) -> None:
        base = {"mcpServers": {"shared": {"command": "s"}, "both": {"command": "base"}}}
        built = build(
            request=make_request(
                config={
                    "mcpBaseConfig": json.dumps(base),
                    "mcpServers": {"both": {"command": "mine"}},
                }
            )
        )
        shipped = json.loads(env_of(built, "write-prompt")["MCP_CONFIG"]["value"])
        assert shipped == {"mcpServers": {"shared": {"command": "s"}, "both": {"command": "mine"}}}
        script = container(built, "write-prompt")["command"][2]
        assert "printf '%s' \"$MCP_CONFIG\" > /tmp/prompt/mcp.json" in script
        args = built.claude_args
        assert args[args.index("--mcp-config") + 1 :][:2] == (
            "/tmp/prompt/mcp.json",
            "--strict-mcp-config",
        )


class TestLargePrompt:
    def test_small_prompt_has_no_secret(self, build: Build) -> None:
        built = build()
        assert built.prompt_secret is None
        assert "prompt-secret" not in volume_names(built)

    def test_exactly_256_kib_stays_in_env(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(prompt="x" * 262144))
        assert built.prompt_secret is None
        assert env_of(built, "write-prompt")["PROMPT_CONTENT"]["value"] == "x" * 262144

    def test_one_byte_over_goes_to_a_secret(self, build: Build, make_request: Any) -> None:
        prompt = "x" * 262145
        built = build(request=make_request(prompt=prompt))
        assert built.prompt_secret is not None
        assert built.prompt_secret["metadata"]["name"] == f"{built.job_name}-prompt"
        assert built.prompt_secret["metadata"]["namespace"] == built.namespace
        assert built.prompt_secret["stringData"] == {"prompt.txt": prompt}
        init = container(built, "write-prompt")
        assert "PROMPT_CONTENT" not in env_of(built, "write-prompt")
        assert "cp /tmp/prompt-secret/prompt.txt /tmp/prompt/prompt.txt" in init["command"][2]
        assert mounts(built, "write-prompt")["/tmp/prompt-secret"]["readOnly"] is True
        volumes = {v["name"]: v for v in pod_spec(built)["volumes"]}
        assert volumes["prompt-secret"]["secret"] == {
            "secretName": f"{built.job_name}-prompt",
            "optional": False,
        }

    def test_threshold_counts_utf8_bytes(self, build: Build, make_request: Any) -> None:
        # 131073 two-byte characters: well under 256 Ki characters, over 256 KiB.
        built = build(request=make_request(prompt="é" * 131073))
        assert built.prompt_secret is not None
        assert built.prompt_bytes == 262146

    def test_b9_secret_labels_are_sanitised(self, build: Build, make_request: Any) -> None:
        # The seed put the raw run id in the label, so such Secrets failed to create.
        built = build(request=make_request(runId="run/with spaces@1", prompt="y" * 300000))
        assert built.prompt_secret is not None
        secret_labels = built.prompt_secret["metadata"]["labels"]
        assert secret_labels["paperclip.io/run-id"] == "runwithspaces1"
        assert built.prompt_secret["metadata"]["annotations"]["paperclip.io/run-id"] == (
            "run/with spaces@1"
        )


class TestDockerSidecar:
    def test_off_by_default(self, build: Build) -> None:
        built = build()
        assert [c["name"] for c in pod_spec(built)["initContainers"]] == ["write-prompt"]
        assert "DOCKER_HOST" not in env_of(built)
        assert "docker.sock" not in main_script(built)

    def test_native_sidecar(self, build: Build, make_request: Any) -> None:
        built = build(
            request=make_request(
                config={"enableDocker": True, "dockerCpuLimit": "3", "dockerMemoryLimit": "4Gi"}
            )
        )
        dind = container(built, "dind")
        assert dind["restartPolicy"] == "Always"
        assert dind["image"] == "docker:28-dind"
        assert dind["securityContext"] == {
            "privileged": True,
            "runAsUser": 0,
            "runAsNonRoot": False,
        }
        assert dind["resources"]["limits"] == {"cpu": "3", "memory": "4Gi"}
        assert dind["args"][0] == "dockerd"
        assert mounts(built, "dind")["/var/run"]["name"] == "docker-sock"
        assert mounts(built)["/var/run"]["name"] == "docker-sock"
        assert env_value(built, "DOCKER_HOST") == "unix:///var/run/docker.sock"
        assert main_script(built).startswith("i=0; while [ ! -S /var/run/docker.sock ]")


class TestTeeLog:
    def test_tee_path_on_the_shared_volume(self, build: Build) -> None:
        built = build()
        assert built.tee_log_path == (
            "/paperclip/instances/default/data/run-logs/co1/agent-abc/"
            "ac-agent-abc-run-abc12345-8a7510.pod.ndjson"
        )
        assert built.tee_log_relpath == built.tee_log_path.removeprefix("/paperclip/")
        assert f"| tee {built.tee_log_path}" in main_script(built)
        assert built.job["metadata"]["annotations"]["paperclip.io/log-path"] == built.tee_log_path

    def test_b5_tee_path_follows_the_configured_mount(
        self, build: Build, make_request: Any
    ) -> None:
        built = build(
            request=make_request(
                config={"workspaceMountPath": "/work", "workspaceVolumeClaim": "pvc"}
            )
        )
        assert built.tee_log_path is not None
        assert built.tee_log_path.startswith("/work/instances/default/data/run-logs/")

    def test_b5_pod_creates_the_log_directory(self, build: Build) -> None:
        built = build()
        assert built.tee_log_path is not None
        directory = built.tee_log_path.rsplit("/", 1)[0]
        assert f"mkdir -p {directory} || exit 1" in main_script(built)

    def test_path_components_are_sanitised(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "agent@123", "companyId": "co/1"}))
        assert built.tee_log_path is not None
        assert "/run-logs/co1/agent123/" in built.tee_log_path
        assert ".." not in built.tee_log_path

    def test_no_company_gets_a_placeholder(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(agent={"id": "agent-abc"}))
        assert built.tee_log_path is not None
        assert "/run-logs/no-company/agent-abc/" in built.tee_log_path

    def test_no_tee_without_a_shared_volume(self, build: Build, self_pod: SelfPod) -> None:
        built = build(self_pod=_with(self_pod, pvc_mounts=()))
        assert built.tee_log_path is None
        assert "tee" not in main_script(built)
        assert "paperclip.io/log-path" not in built.job["metadata"]["annotations"]

    def test_no_tee_when_disabled(self, build: Build) -> None:
        assert build(run_log_dir=None).tee_log_path is None

    def test_ccrotate_preflight_without_accounts(self, build: Build) -> None:
        assert (
            "(command -v ccrotate >/dev/null 2>&1 && ccrotate next --yes --target claude"
            " >/dev/null 2>&1) || true"
        ) in main_script(build())

    def test_b10_ccrotate_accounts_are_quoted(self, build: Build, make_request: Any) -> None:
        built = build(request=make_request(config={"ccrotateAccounts": ["a@b.c", "d;rm"]}))
        assert "--accounts 'a@b.c,d;rm'" in main_script(built)

    def test_b1_tee_path_readable_from_the_job(self, build: Build) -> None:
        built = build()
        assert manifests.tee_log_path_of(built.job) == built.tee_log_path
        del built.job["metadata"]["annotations"]["paperclip.io/log-path"]
        assert manifests.tee_log_path_of(built.job) == built.tee_log_path  # from the command

    def test_b1_tee_path_of_a_seed_adapter_job(self) -> None:
        seed_job = {
            "metadata": {"name": "ac-a-r-123456"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "claude",
                                "command": [
                                    "sh",
                                    "-c",
                                    "set -o pipefail; (true) || true; cat /tmp/prompt/prompt.txt"
                                    " | claude '--print' '-' | tee"
                                    " /paperclip/instances/default/data/run-logs/co1/a/prior.pod.ndjson",
                                ],
                            }
                        ]
                    }
                }
            },
        }
        assert manifests.tee_log_path_of(seed_job) == (
            "/paperclip/instances/default/data/run-logs/co1/a/prior.pod.ndjson"
        )
        assert manifests.tee_log_path_of({"metadata": {}}) is None


class TestB4:
    def test_b4_no_mount_without_its_volume(self, build: Build, self_pod: SelfPod) -> None:
        # Without any claim the seed still mounted `data` into write-prompt: an invalid pod.
        built = build(self_pod=_with(self_pod, pvc_mounts=()))
        names = set(volume_names(built))
        for spec in pod_spec(built)["initContainers"] + pod_spec(built)["containers"]:
            for mount in spec.get("volumeMounts", []):
                assert mount["name"] in names

    def test_b4_outside_a_cluster(self, build: Build) -> None:
        built = build(self_pod=None, defaults={"image": "img:1"})
        assert volume_names(built) == ["prompt"]


class TestReturnValue:
    def test_fields(self, build: Build) -> None:
        built = build()
        assert built.job_name == built.job["metadata"]["name"]
        assert built.namespace == "paperclip"
        assert built.prompt_secret is None
        assert built.claude_args[0] == "--print"
        assert built.prompt_bytes == len(DEFAULT_PROMPT.encode())
        assert built.skipped_labels == ()


DEFAULT_PROMPT = "You are agent agent-abc (Test Agent). Continue your Paperclip work."


class TestPatches:
    def test_secret_owner_reference(self) -> None:
        patch = manifests.secret_owner_patch(job_name="ac-x", job_uid="uid-1")
        assert patch.content_type == "application/merge-patch+json"
        assert patch.body == {
            "metadata": {
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": "ac-x",
                        "uid": "uid-1",
                        "blockOwnerDeletion": False,
                    }
                ]
            }
        }

    def test_b14_relabel_adds_a_missing_session_label(self, build: Build) -> None:
        # A JSON-patch `replace` of an absent session-id label failed the whole patch in the seed,
        # so run-id was not updated either. A merge patch adds what is missing.
        job = build().job
        assert "paperclip.io/session-id" not in job["metadata"]["labels"]
        patch = manifests.reattach_patch(run_id="run/new 2", session_id="sess_9")
        patched = merge_patch(job, patch.body)
        assert patched["metadata"]["labels"]["paperclip.io/run-id"] == "runnew2"
        assert patched["metadata"]["labels"]["paperclip.io/session-id"] == "sess_9"
        assert patched["metadata"]["annotations"]["paperclip.io/run-id"] == "run/new 2"
        assert manifests.job_run_id(patched) == "run/new 2"
        # Everything else is untouched.
        assert patched["metadata"]["labels"]["paperclip.io/agent-id"] == "agent-abc"
        assert patched["spec"] == job["spec"]

    def test_relabel_without_session_keeps_the_jobs_session(
        self, build: Build, make_request: Any
    ) -> None:
        job = build(request=make_request(sessionId="old")).job
        patched = merge_patch(job, manifests.reattach_patch(run_id="r2", session_id=None).body)
        assert patched["metadata"]["labels"]["paperclip.io/session-id"] == "old"

    def test_job_run_id_falls_back_to_the_label(self) -> None:
        job = {"metadata": {"labels": {"paperclip.io/run-id": "r1"}}}
        assert manifests.job_run_id(job) == "r1"
        assert manifests.job_run_id({"metadata": {}}) is None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the API server applies it."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------------------------------------
# The main script, run for real: a stub `claude` shell function stands in for the CLI.

FAKE_CLAUDE = """
claude() {
  printf 'stdin:'; cat; printf '\\n'
  for arg in "$@"; do printf 'arg:%s\\n' "$arg"; done
  return "${FAKE_EXIT:-0}"
}
"""


def run_main(
    built: manifests.BuiltJob, tmp_path: Path, *, shell: str = "sh", exit_code: int = 0
) -> subprocess.CompletedProcess[bytes]:
    prompt_dir = tmp_path / "prompt"
    prompt_dir.mkdir(exist_ok=True)
    (prompt_dir / "prompt.txt").write_text("the prompt")
    script = main_script(built).replace("/tmp/prompt", str(prompt_dir))
    return subprocess.run(
        [shell, "-c", FAKE_CLAUDE + script],
        env={"PATH": os.environ["PATH"], "FAKE_EXIT": str(exit_code)},
        capture_output=True,
        timeout=10,
        check=False,
    )


@pytest.fixture
def tee_build(build: Build, make_request: Any, tmp_path: Path) -> Callable[..., manifests.BuiltJob]:
    """Builds whose workspace mount is a real temporary directory, so the tee file lands there."""

    def make(**request_fields: Any) -> manifests.BuiltJob:
        config_fields = {"workspaceMountPath": str(tmp_path / "ws"), "workspaceVolumeClaim": "pvc"}
        config_fields.update(request_fields.pop("config", {}))
        return build(request=make_request(config=config_fields, **request_fields))

    return make


class TestMainScript:
    @pytest.mark.parametrize("shell", SHELLS)
    def test_prompt_on_stdin_output_tee_d(self, tee_build: Any, tmp_path: Path, shell: str) -> None:
        built = tee_build()
        result = run_main(built, tmp_path, shell=shell)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(b"stdin:the prompt\narg:--print\narg:-\n")
        assert built.tee_log_path is not None
        assert Path(built.tee_log_path).read_bytes() == result.stdout

    @pytest.mark.parametrize("shell", SHELLS)
    @pytest.mark.parametrize("exit_code", [1, 137])
    def test_b19_claude_exit_status_survives_without_pipefail(
        self, tee_build: Any, tmp_path: Path, shell: str, exit_code: int
    ) -> None:
        # dash has no `set -o pipefail`; the seed's script aborted there, and with a plain
        # pipeline a crashing claude would look like success (tee's status).
        result = run_main(tee_build(), tmp_path, shell=shell, exit_code=exit_code)
        assert result.returncode == exit_code

    def test_tee_failure_fails_the_run(self, tee_build: Any, tmp_path: Path) -> None:
        built = tee_build()
        assert built.tee_log_path is not None
        Path(built.tee_log_path).parent.mkdir(parents=True)
        Path(built.tee_log_path).mkdir()  # tee cannot open a directory for writing
        assert run_main(built, tmp_path).returncode != 0

    def test_mkdir_failure_stops_before_claude(self, tee_build: Any, tmp_path: Path) -> None:
        (tmp_path / "ws").write_text("a file where the volume should be")
        result = run_main(tee_build(), tmp_path)
        assert result.returncode == 1
        assert b"stdin:" not in result.stdout

    def test_without_tee_exit_status_is_claudes(
        self, build: Build, tmp_path: Path, self_pod: SelfPod
    ) -> None:
        built = build(self_pod=_with(self_pod, pvc_mounts=()))
        assert run_main(built, tmp_path, exit_code=3).returncode == 3
        assert run_main(built, tmp_path, exit_code=0).returncode == 0

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        extra=st.lists(
            st.text(
                st.characters(
                    blacklist_categories=("Cs", "Cc"),
                ),
                max_size=12,
            ),
            max_size=4,
        )
    )
    def test_any_argument_reaches_claude_intact(
        self, tee_build: Any, tmp_path: Path, extra: list[str]
    ) -> None:
        built = tee_build(config={"extraArgs": extra, "model": "m$(whoami)"})
        result = run_main(built, tmp_path)
        assert result.returncode == 0, result.stderr
        received = [
            line.removeprefix("arg:")
            for line in result.stdout.decode().split("\n")
            if line.startswith("arg:")
        ]
        # Arguments containing newlines would span lines in the stub's output; compare joined.
        assert "\n".join(received) == "\n".join(built.claude_args)


# ---------------------------------------------------------------------------------------------
# Any ids and labels at all still make a valid Job.


# Printable text (what the API accepts) holding at least one ASCII letter or digit.
_printable = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
_ids = st.builds(
    lambda head, anchor, tail: head + anchor + tail,
    st.text(_printable | st.just(" "), max_size=60),
    st.sampled_from(string.ascii_letters + string.digits),
    st.text(_printable | st.just(" "), max_size=60),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(run_id=_ids, agent_id=_ids, task=st.none() | _ids)
def test_any_valid_request_builds_a_valid_job(
    build: Build, make_request: Any, run_id: str, agent_id: str, task: str | None
) -> None:
    request = make_request(
        runId=run_id, agent={"id": agent_id, "companyId": agent_id}, taskKey=task
    )
    built = build(request=request)  # `build` validates schema and semantics
    assert built.job["metadata"]["annotations"]["paperclip.io/run-id"] == run_id
    assert manifests.job_run_id(built.job) == run_id


def _with(pod: SelfPod, **changes: Any) -> SelfPod:
    return dataclasses.replace(pod, **changes)
