"""Fixtures for the pure core: a realistic supervisor pod, request and config factories, and the
one `build` helper every manifest test goes through — it validates each Job and Secret against
the real Kubernetes 1.37 schemas (strict) plus the semantic rules a schema cannot express."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import msgspec
import pytest

from supervisor import config, labels, runspec
from supervisor.bundle import PromptBundle
from supervisor.k8s import manifests
from supervisor.selfpod import SelfPod, read_self_pod

KUBERNETES_VERSION = "1.37.0"

# The supervisor's pod as the API would return it: a mesh sidecar listed first, the Paperclip
# container with the shared volume, a mounted Secret, and env of every kind.
SELF_POD_OBJECT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "paperclip-7d9f-abcde", "namespace": "paperclip"},
    "spec": {
        "imagePullSecrets": [{"name": "regcred"}],
        "containers": [
            {
                "name": "istio-proxy",
                "image": "istio/proxyv2:1.20",
                "env": [{"name": "MESH_ONLY", "value": "1"}],
            },
            {
                "name": "paperclip",
                "image": "paperclipai/paperclip:latest",
                "env": [
                    {"name": "PAPERCLIP_API_URL", "value": "http://paperclip:8080"},
                    {"name": "EMPTY_ONE", "value": ""},
                    {
                        "name": "ANTHROPIC_AUTH_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "llm", "key": "token"}},
                    },
                    {"name": "PAPERCLIP_SUPERVISOR_DB", "value": "/data/events.db"},
                ],
                "envFrom": [{"secretRef": {"name": "paperclip-secrets"}}],
                "volumeMounts": [
                    {"name": "workspace", "mountPath": "/paperclip"},
                    {"name": "gcp-creds", "mountPath": "/var/secrets/gcp", "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp/scratch"},
                ],
            },
        ],
        "volumes": [
            {"name": "workspace", "persistentVolumeClaim": {"claimName": "paperclip-data"}},
            {"name": "gcp-creds", "secret": {"secretName": "gcp-sa", "defaultMode": 0o400}},
            {"name": "tmp", "emptyDir": {}},
        ],
    },
}

DEFAULT_REQUEST: dict[str, Any] = {
    "runId": "run-abc12345",
    "agent": {"id": "agent-abc", "companyId": "co1", "name": "Test Agent"},
    "prompt": "You are agent agent-abc (Test Agent). Continue your Paperclip work.",
}

_DEFAULT = object()


@pytest.fixture
def self_pod_object() -> dict[str, Any]:
    """A private copy of the realistic supervisor Pod object."""
    return copy.deepcopy(SELF_POD_OBJECT)


@pytest.fixture
def self_pod(self_pod_object: dict[str, Any]) -> SelfPod:
    """The inheritable parts of that pod."""
    return read_self_pod(self_pod_object)


@pytest.fixture
def make_request() -> Callable[..., runspec.RunRequest]:
    """Build a run request the way the API does: a JSON body through `decode_run_request`.

    Keyword arguments are camelCase body fields replacing the defaults; ``None`` removes one.
    """

    def make(**fields: Any) -> runspec.RunRequest:
        body = copy.deepcopy(DEFAULT_REQUEST)
        for key, value in fields.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return runspec.decode_run_request(
            json.dumps(body).encode(), max_prompt_bytes=config.DEFAULT_MAX_PROMPT_BYTES
        )

    return make


def daemon_config(defaults: Mapping[str, Any] | None = None, **daemon: Any) -> config.DaemonConfig:
    """A daemon config with ``defaults`` as its ``[agent]`` table (camelCase keys)."""
    agent = msgspec.convert(dict(defaults or {}), config.AgentSettings)
    return config.DaemonConfig(agent=agent, **daemon)


def check_manifests(built: manifests.BuiltJob) -> None:
    """Schema-validate the Job (and Secret) and check what the schema cannot."""
    kubernetes_validate.validate(built.job, KUBERNETES_VERSION, strict=True)
    if built.prompt_secret is not None:
        kubernetes_validate.validate(built.prompt_secret, KUBERNETES_VERSION, strict=True)
        _check_labels(built.prompt_secret["metadata"]["labels"])
    job = built.job
    assert labels.is_dns_label(job["metadata"]["name"])
    assert job["metadata"]["name"] == built.job_name
    assert job["metadata"]["namespace"] == built.namespace
    _check_labels(job["metadata"]["labels"])
    template = job["spec"]["template"]
    assert template["metadata"]["labels"] == job["metadata"]["labels"]
    pod = template["spec"]
    volume_names = [v["name"] for v in pod["volumes"]]
    assert len(volume_names) == len(set(volume_names)), f"duplicate volumes {volume_names}"
    assert all(labels.is_dns_label(name) for name in volume_names)
    containers = pod.get("initContainers", []) + pod["containers"]
    container_names = [c["name"] for c in containers]
    assert len(container_names) == len(set(container_names))
    for container in containers:
        mounts = container.get("volumeMounts", [])
        for mount in mounts:
            assert mount["name"] in volume_names, f"{container['name']}: mount without volume"
        paths = [m["mountPath"] for m in mounts]
        assert len(paths) == len(set(paths)), f"{container['name']}: duplicate mount paths"
        env_names = [e["name"] for e in container.get("env", [])]
        assert len(env_names) == len(set(env_names)), f"{container['name']}: duplicate env"
        resources = container.get("resources", {})
        for kind in ("cpu", "memory"):
            request = resources.get("requests", {}).get(kind)
            limit = resources.get("limits", {}).get(kind)
            if request and limit:
                assert config.quantity_value(request) <= config.quantity_value(limit)


def _check_labels(job_labels: Mapping[str, str]) -> None:
    for key, value in job_labels.items():
        assert labels.is_valid_label_key(key), key
        assert labels.is_valid_label_value(value), (key, value)


@pytest.fixture
def make_bundle() -> Callable[..., PromptBundle]:
    """A prompt bundle as `bundle.prepare_bundle` returns it, without touching disk."""

    def make(*, instructions: bool = True, pod_root: str = "/paperclip") -> PromptBundle:
        pod_dir = f"{pod_root}/{config.DEFAULT_BUNDLE_DIR}/test-bundle"
        return PromptBundle(
            key="test-bundle",
            host_dir=Path("/unused/test-bundle"),
            pod_dir=pod_dir,
            instructions_pod_path=f"{pod_dir}/agent-instructions.md" if instructions else None,
            skill_names=(),
        )

    return make


@pytest.fixture
def build(
    make_request: Callable[..., runspec.RunRequest], self_pod: SelfPod
) -> Callable[..., manifests.BuiltJob]:
    """Build and validate one run's manifests.

    Args (all keyword): ``request`` (default: the standard request), ``defaults`` (the daemon's
    ``[agent]`` table), ``self_pod`` (default: the realistic pod; None = outside a cluster),
    ``bundle``, ``run_log_dir``, ``default_namespace``.
    """

    def build(
        *,
        request: runspec.RunRequest | None = None,
        defaults: Mapping[str, Any] | None = None,
        self_pod: Any = _DEFAULT,
        bundle: PromptBundle | None = None,
        run_log_dir: Any = _DEFAULT,
        default_namespace: str | None = None,
    ) -> manifests.BuiltJob:
        run_request = request if request is not None else make_request()
        agent = config.resolve_agent_config(daemon_config(defaults), run_request.agent_overrides())
        spec = manifests.JobSpec(
            request=run_request,
            agent=agent,
            self_pod=default_pod if self_pod is _DEFAULT else self_pod,
            default_namespace=default_namespace,
            bundle=bundle,
            run_log_dir=config.DEFAULT_RUN_LOG_DIR if run_log_dir is _DEFAULT else run_log_dir,
        )
        built = manifests.build_job(spec)
        check_manifests(built)
        return built

    default_pod = self_pod
    return build
