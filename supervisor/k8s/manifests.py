"""Job and prompt-Secret manifests for one run, as plain dicts — pure, deterministic, no I/O.

Why this module exists: the shape of a run's Job is where most of the seed adapter's production
lessons live (reference section 2 and its bug history), so it is built in one place, from typed
inputs, and every decision is testable without a cluster.

What a built Job does, in order:
1. ``write-prompt`` (busybox init container) writes the prompt to ``/tmp/prompt/prompt.txt`` with
   ``printf '%s'`` — never ``echo``, which mangles backslashes — from env ``PROMPT_CONTENT``, or
   copies it from the ``<job>-prompt`` Secret when the prompt is over 256 KiB (UTF-8 bytes): the
   pod spec must stay well under the API server's ~1 MiB object limit. It also writes the merged
   MCP config when the agent has MCP servers.
2. ``dind`` (optional native sidecar) runs dockerd on a socket shared with the main container.
3. ``claude`` pipes the prompt file into ``claude --print - --output-format stream-json …`` and,
   when the workspace volume is mounted, tees the output to a per-run file on it (creating the
   directory first). The exit status is Claude's even in shells without ``pipefail``.

Deliberate departures from the seed adapter (appendix B), each with a test named after it:
B.4 no mount without its volume; B.5 the log directory is created by the pod, under the
configured mount path; B.9 the Secret's run-id label is sanitised; B.10 ``--accounts`` is
quoted; B.11 no duplicate env names; B.14 relabelling uses a merge patch, which cannot fail on
a missing label; B.15 no instructions flag without an instructions file; B.19 the exit status
does not depend on ``set -o pipefail``; B.1 the tee path is recorded on the Job.
"""

from __future__ import annotations

import copy
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from supervisor import config as cfg
from supervisor import labels
from supervisor.bundle import PromptBundle
from supervisor.runspec import RunRequest
from supervisor.selfpod import DEFAULT_NAMESPACE, SelfPod

LARGE_PROMPT_THRESHOLD_BYTES = 256 * 1024
"""Prompts strictly larger than this (UTF-8 bytes) travel in a Secret instead of an env var."""

WRITE_PROMPT_IMAGE = "busybox:1.36"
PROMPT_DIR = "/tmp/prompt"
PROMPT_FILE = f"{PROMPT_DIR}/prompt.txt"
MCP_CONFIG_FILE = f"{PROMPT_DIR}/mcp.json"
CLAUDE_EXIT_FILE = f"{PROMPT_DIR}/claude-exit-code"
PROMPT_SECRET_DIR = "/tmp/prompt-secret"
PROMPT_SECRET_KEY = "prompt.txt"
PROMPT_SECRET_SUFFIX = "-prompt"
DOCKER_SOCKET_DIR = "/var/run"
DOCKER_SOCKET = f"{DOCKER_SOCKET_DIR}/docker.sock"
DOCKER_GRAPH_DIR = "/var/lib/docker"
DOCKER_WAIT_STEPS = 60
"""Polls of 0.5 s for the dind socket before the main container gives up (30 s)."""
TEE_FILE_SUFFIX = ".pod.ndjson"
NO_COMPANY_COMPONENT = "no-company"

CONTAINER_CLAUDE = "claude"
CONTAINER_WRITE_PROMPT = "write-prompt"
CONTAINER_DIND = "dind"
VOLUME_PROMPT = "prompt"
VOLUME_DATA = "data"
VOLUME_PROMPT_SECRET = "prompt-secret"
VOLUME_DOCKER_GRAPH = "docker-graph"
VOLUME_DOCKER_SOCK = "docker-sock"
_OWN_VOLUMES = frozenset(
    {VOLUME_PROMPT, VOLUME_DATA, VOLUME_PROMPT_SECRET, VOLUME_DOCKER_GRAPH, VOLUME_DOCKER_SOCK}
)

DEFAULT_POD_SECURITY_CONTEXT: Mapping[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "runAsGroup": 1000,
    "fsGroup": 1000,
    # A recursive chown of a large shared volume delayed every pod start (seed 98af28a).
    "fsGroupChangePolicy": "OnRootMismatch",
}
CONTAINER_SECURITY_CONTEXT: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": False,
}
WRITE_PROMPT_RESOURCES: Mapping[str, Any] = {
    "requests": {"cpu": "10m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}

MERGE_PATCH = "application/merge-patch+json"


class ManifestError(ValueError):
    """The inputs cannot make a valid Job (no image, unusable ids, bundle without a volume…)."""


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """Everything one run's manifests are built from.

    ``agent`` is the request's overrides already resolved over the daemon defaults
    (`supervisor.config.resolve_agent_config` with `RunRequest.agent_overrides`).
    """

    request: RunRequest
    agent: cfg.AgentConfig
    self_pod: SelfPod | None = None
    default_namespace: str | None = None
    """The daemon's namespace setting; then the self pod's; then ``default``."""
    bundle: PromptBundle | None = None
    run_log_dir: str | None = cfg.DEFAULT_RUN_LOG_DIR
    """Tee directory relative to the volume root; None = no tee file even with a volume."""


@dataclass(frozen=True)
class SkippedLabel:
    """A label left off the Job, and why (reported to the operator)."""

    key: str
    reason: str


@dataclass(frozen=True)
class BuiltJob:
    """The manifests of one run and the facts the lifecycle needs about them."""

    job: dict[str, Any]
    prompt_secret: dict[str, Any] | None
    job_name: str
    namespace: str
    claude_args: tuple[str, ...]
    skipped_labels: tuple[SkippedLabel, ...]
    tee_log_path: str | None
    """The run's output file as the pod sees it; None when there is no shared volume."""
    tee_log_relpath: str | None
    """The same file relative to the volume root (join with the daemon's host directory)."""
    prompt_bytes: int


@dataclass(frozen=True)
class Patch:
    """A patch for the API: send ``body`` as JSON with ``Content-Type: content_type``."""

    content_type: str
    body: dict[str, Any]


def build_job(spec: JobSpec) -> BuiltJob:
    """Build the Job (and, for a large prompt, the prompt Secret) of one run.

    Raises:
        ManifestError: no image is known, the run or agent id cannot become a label, or the
            request needs a prompt bundle / volume that is not there.
    """
    request, agent, self_pod = spec.request, spec.agent, spec.self_pod
    name = labels.job_name(request.agent.id, request.run_id)
    namespace = (
        agent.namespace
        or spec.default_namespace
        or (self_pod.namespace if self_pod else None)
        or DEFAULT_NAMESPACE
    )
    image = agent.image or (self_pod.image if self_pod else None)
    if not image:
        raise ManifestError("no image: set the agent's `image`, or run inside the cluster")
    if (request.instructions is not None or request.skills) and spec.bundle is None:
        raise ManifestError("the request has instructions or skills but no prompt bundle")

    volume = _workspace_volume(agent, self_pod)
    if spec.bundle is not None and volume is None:
        raise ManifestError("a prompt bundle needs the shared workspace volume, and none is set")
    job_labels, skipped = _labels(request, agent)
    tee_relpath = None
    if volume is not None and spec.run_log_dir is not None:
        tee_relpath = _tee_relpath(spec.run_log_dir, job_labels, name)
    tee_path = posixpath.join(agent.workspace_mount_path, tee_relpath) if tee_relpath else None

    prompt_bytes = len(request.prompt.encode("utf-8"))
    large_prompt = prompt_bytes > LARGE_PROMPT_THRESHOLD_BYTES
    args = claude_args(request, agent, spec.bundle)
    mcp_json = _mcp_config_json(agent)

    volumes: list[dict[str, Any]] = [{"name": VOLUME_PROMPT, "emptyDir": {}}]
    main_mounts: list[dict[str, Any]] = [{"name": VOLUME_PROMPT, "mountPath": PROMPT_DIR}]
    if volume is not None:
        volumes.append(volume[0])
        main_mounts.append(volume[1])
    volumes_, mounts_ = _inherited_secret_volumes(self_pod, {m["mountPath"] for m in main_mounts})
    volumes += volumes_
    main_mounts += mounts_

    init_containers = [_write_prompt_container(request.prompt, large_prompt, mcp_json)]
    if agent.docker is not None:
        init_containers.append(_dind_container(agent.docker))
        volumes += [
            {"name": VOLUME_DOCKER_GRAPH, "emptyDir": {}},
            {"name": VOLUME_DOCKER_SOCK, "emptyDir": {}},
        ]
        main_mounts.append({"name": VOLUME_DOCKER_SOCK, "mountPath": DOCKER_SOCKET_DIR})
    if large_prompt:
        volumes.append(
            {
                "name": VOLUME_PROMPT_SECRET,
                "secret": {"secretName": name + PROMPT_SECRET_SUFFIX, "optional": False},
            }
        )

    main: dict[str, Any] = {
        "name": CONTAINER_CLAUDE,
        "image": image,
        "imagePullPolicy": agent.image_pull_policy,
        "workingDir": agent.cwd or agent.workspace_mount_path,
        "command": [
            "sh",
            "-c",
            main_command(
                args,
                tee_path=tee_path,
                docker=agent.docker is not None,
                ccrotate_accounts=agent.ccrotate_accounts,
            ),
        ],
        "env": _main_env(request, agent, self_pod),
        "volumeMounts": main_mounts,
        "resources": agent.resources.to_manifest(),
        "securityContext": copy.deepcopy(dict(CONTAINER_SECURITY_CONTEXT)),
    }
    if self_pod is not None and self_pod.env_from:
        main["envFrom"] = copy.deepcopy(list(self_pod.env_from))

    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": _pod_security_context(self_pod),
        "initContainers": init_containers,
        "containers": [main],
        "volumes": volumes,
    }
    if agent.service_account_name:
        pod_spec["serviceAccountName"] = agent.service_account_name
    _add_inherited_pod_fields(pod_spec, agent, self_pod)

    annotations = _annotations(request, tee_path)
    job_spec: dict[str, Any] = {"backoffLimit": 0}
    if agent.timeout_sec > 0:
        job_spec["activeDeadlineSeconds"] = agent.timeout_sec
    job_spec["ttlSecondsAfterFinished"] = agent.ttl_seconds_after_finished
    job_spec["template"] = {
        "metadata": {"labels": dict(job_labels), "annotations": dict(annotations)},
        "spec": pod_spec,
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": job_labels,
            "annotations": annotations,
        },
        "spec": job_spec,
    }
    secret = (
        _prompt_secret(request, name + PROMPT_SECRET_SUFFIX, namespace) if large_prompt else None
    )
    return BuiltJob(
        job=job,
        prompt_secret=secret,
        job_name=name,
        namespace=namespace,
        claude_args=args,
        skipped_labels=skipped,
        tee_log_path=tee_path,
        tee_log_relpath=tee_relpath,
        prompt_bytes=prompt_bytes,
    )


# ---------------------------------------------------------------------------------------------
# Claude command line.


def claude_args(
    request: RunRequest, agent: cfg.AgentConfig, bundle: PromptBundle | None
) -> tuple[str, ...]:
    """The ``claude`` argv (without the program), in the seed adapter's order."""
    args = ["--print", "-", "--output-format", "stream-json", "--verbose"]
    resuming = request.session_id is not None
    if resuming:
        args += ["--resume", request.session_id or ""]
    if agent.dangerously_skip_permissions:
        args.append("--dangerously-skip-permissions")
    if agent.model:
        args += ["--model", agent.model]
    if agent.effort:
        args += ["--effort", agent.effort]
    if agent.max_turns_per_run > 0:
        args += ["--max-turns", str(agent.max_turns_per_run)]
    # On resume the session already holds the instructions; sending them again wastes tokens.
    if bundle is not None and bundle.instructions_pod_path and not resuming:
        args += ["--append-system-prompt-file", bundle.instructions_pod_path]
    if bundle is not None:
        args += ["--add-dir", bundle.pod_dir]
    if agent.mcp_servers:
        args += ["--mcp-config", MCP_CONFIG_FILE, "--strict-mcp-config"]
    args += agent.extra_args
    return tuple(args)


def main_command(
    args: tuple[str, ...],
    *,
    tee_path: str | None,
    docker: bool = False,
    ccrotate_accounts: tuple[str, ...] = (),
) -> str:
    """The main container's ``sh -c`` script.

    With a tee file the script records Claude's exit status in a file, because a plain pipeline
    reports tee's status and ``set -o pipefail`` is missing from some ``/bin/sh`` (dash).
    """
    invoke = f"cat {PROMPT_FILE} | claude {shlex.join(args)}"
    lines = []
    if docker:
        lines.append(
            f"i=0; while [ ! -S {DOCKER_SOCKET} ] && [ $i -lt {DOCKER_WAIT_STEPS} ];"
            " do sleep 0.5; i=$((i+1)); done;"
            f" if [ ! -S {DOCKER_SOCKET} ]; then"
            f' echo "dind sidecar socket {DOCKER_SOCKET} never appeared after'
            f' {DOCKER_WAIT_STEPS // 2}s" >&2; exit 1; fi'
        )
    lines.append(_ccrotate_preflight(ccrotate_accounts))
    if tee_path is None:
        lines.append(invoke)
        return "\n".join(lines)
    lines += [
        f"mkdir -p {shlex.quote(posixpath.dirname(tee_path))} || exit 1",
        f"{{ {invoke}; echo $? > {CLAUDE_EXIT_FILE}; }} | tee {shlex.quote(tee_path)}",
        "tee_status=$?",
        f"claude_status=$(cat {CLAUDE_EXIT_FILE} 2>/dev/null)",
        '[ -n "$claude_status" ] || claude_status=1',
        '[ "$claude_status" = 0 ] || exit "$claude_status"',
        'exit "$tee_status"',
    ]
    return "\n".join(lines)


def _ccrotate_preflight(accounts: tuple[str, ...]) -> str:
    # Optional account rotation; a no-op in images without ccrotate.
    command = "ccrotate next --yes --target claude"
    if accounts:
        command += " --accounts " + shlex.quote(",".join(accounts))
    return f"(command -v ccrotate >/dev/null 2>&1 && {command} >/dev/null 2>&1) || true"


def _mcp_config_json(agent: cfg.AgentConfig) -> str | None:
    if not agent.mcp_servers:
        return None
    merged = {**agent.mcp_base_servers, **agent.mcp_servers}
    return msgspec.json.encode({"mcpServers": merged}).decode()


# ---------------------------------------------------------------------------------------------
# Containers.


def _write_prompt_container(prompt: str, large: bool, mcp_json: str | None) -> dict[str, Any]:
    steps = ["set -e"]
    env: list[dict[str, str]] = []
    if large:
        steps.append(f"cp {PROMPT_SECRET_DIR}/{PROMPT_SECRET_KEY} {PROMPT_FILE}")
    else:
        steps.append(f"printf '%s' \"$PROMPT_CONTENT\" > {PROMPT_FILE}")
        env.append({"name": "PROMPT_CONTENT", "value": prompt})
    if mcp_json is not None:
        steps.append(f"printf '%s' \"$MCP_CONFIG\" > {MCP_CONFIG_FILE}")
        env.append({"name": "MCP_CONFIG", "value": mcp_json})
    mounts: list[dict[str, Any]] = [{"name": VOLUME_PROMPT, "mountPath": PROMPT_DIR}]
    if large:
        mounts.append(
            {"name": VOLUME_PROMPT_SECRET, "mountPath": PROMPT_SECRET_DIR, "readOnly": True}
        )
    container: dict[str, Any] = {
        "name": CONTAINER_WRITE_PROMPT,
        "image": WRITE_PROMPT_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", "; ".join(steps)],
        "volumeMounts": mounts,
        "resources": copy.deepcopy(dict(WRITE_PROMPT_RESOURCES)),
        "securityContext": copy.deepcopy(dict(CONTAINER_SECURITY_CONTEXT)),
    }
    if env:
        container["env"] = env
    return container


def _dind_container(docker: cfg.DockerSidecar) -> dict[str, Any]:
    return {
        "name": CONTAINER_DIND,
        "image": docker.image,
        "imagePullPolicy": "IfNotPresent",
        "restartPolicy": "Always",  # a native sidecar: runs beside the main container
        "args": [
            "dockerd",
            f"--host=unix://{DOCKER_SOCKET}",
            "--storage-driver=overlay2",
        ],
        "securityContext": {"privileged": True, "runAsUser": 0, "runAsNonRoot": False},
        "env": [{"name": "DOCKER_TLS_CERTDIR", "value": ""}],
        "resources": {
            "requests": {"cpu": cfg.DOCKER_REQUEST_CPU, "memory": cfg.DOCKER_REQUEST_MEMORY},
            "limits": {"cpu": docker.cpu_limit, "memory": docker.memory_limit},
        },
        "volumeMounts": [
            {"name": VOLUME_DOCKER_GRAPH, "mountPath": DOCKER_GRAPH_DIR},
            {"name": VOLUME_DOCKER_SOCK, "mountPath": DOCKER_SOCKET_DIR},
        ],
    }


def _main_env(
    request: RunRequest, agent: cfg.AgentConfig, self_pod: SelfPod | None
) -> list[dict[str, Any]]:
    """Env layers, later ones win, one entry per name (reference 2.7, adapted to the request)."""
    entries: dict[str, dict[str, Any]] = {}

    def literal(name: str, value: str) -> None:
        entries[name] = {"name": name, "value": value}

    if self_pod is not None:
        for entry in self_pod.env_value_from:
            entries[entry["name"]] = copy.deepcopy(entry)
        for name, value in self_pod.env:  # an inherited literal beats an inherited reference
            literal(name, value)
    for name, value in request.env.items():
        literal(name, value)
    for name, ref in request.secret_env.items():
        entries[name] = {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}},
        }
    for name, value in agent.env.items():
        literal(name, value)
    # The run's identity must agree with the Job's labels, so nothing overrides it.
    literal("PAPERCLIP_RUN_ID", request.run_id)
    literal("PAPERCLIP_AGENT_ID", request.agent.id)
    if request.agent.company_id is not None:
        literal("PAPERCLIP_COMPANY_ID", request.agent.company_id)
    if request.task_key is not None:
        literal("PAPERCLIP_TASK_ID", request.task_key)
    # Claude keeps sessions under $HOME; on the shared volume they survive the pod for --resume.
    literal("HOME", agent.workspace_mount_path)
    if agent.docker is not None:
        literal("DOCKER_HOST", f"unix://{DOCKER_SOCKET}")
    return list(entries.values())


# ---------------------------------------------------------------------------------------------
# Pod-level fields.


def _workspace_volume(
    agent: cfg.AgentConfig, self_pod: SelfPod | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The shared workspace volume and its mount, explicit claim first; None when there is none."""
    mount: dict[str, Any] = {"name": VOLUME_DATA, "mountPath": agent.workspace_mount_path}
    claim = agent.workspace_volume_claim
    if claim is None and self_pod is not None:
        inherited = self_pod.pvc_at(agent.workspace_mount_path)
        if inherited is not None:
            claim = inherited.claim_name
            if inherited.sub_path:
                mount["subPath"] = inherited.sub_path
    if claim is None:
        return None
    return {"name": VOLUME_DATA, "persistentVolumeClaim": {"claimName": claim}}, mount


def _inherited_secret_volumes(
    self_pod: SelfPod | None, taken_paths: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if self_pod is None:
        return volumes, mounts
    for index, secret in enumerate(self_pod.secret_volumes):
        if secret.mount_path in taken_paths:
            continue  # our own mount wins; a duplicate mountPath would make the pod invalid
        taken_paths.add(secret.mount_path)
        name = secret.volume_name
        if name in _OWN_VOLUMES:
            name = f"inherited-secret-{index}"
        source = copy.deepcopy(secret.secret)
        source["optional"] = True  # a Secret deleted since must not wedge every run
        volumes.append({"name": name, "secret": source})
        mount: dict[str, Any] = {"name": name, "mountPath": secret.mount_path, "readOnly": True}
        if secret.sub_path:
            mount["subPath"] = secret.sub_path
        mounts.append(mount)
    return volumes, mounts


def _pod_security_context(self_pod: SelfPod | None) -> dict[str, Any]:
    """Defaults overlaid by the supervisor pod's own context, so Jobs write the shared volume as
    the same user the supervisor does."""
    context = dict(DEFAULT_POD_SECURITY_CONTEXT)
    inherited = (self_pod.security_context if self_pod else None) or {}
    context.update(copy.deepcopy(inherited))
    if context.get("runAsUser") == 0 and "runAsNonRoot" not in inherited:
        del context["runAsNonRoot"]  # the default would forbid the inherited root user
    return context


def _add_inherited_pod_fields(
    pod_spec: dict[str, Any], agent: cfg.AgentConfig, self_pod: SelfPod | None
) -> None:
    if self_pod is not None and self_pod.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [dict(s) for s in self_pod.image_pull_secrets]
    if self_pod is not None and self_pod.dns_config:
        pod_spec["dnsConfig"] = copy.deepcopy(self_pod.dns_config)
    # A configured nodeSelector/tolerations — even empty — replaces the inherited one.
    node_selector = agent.node_selector
    if node_selector is None:
        node_selector = dict(self_pod.node_selector) if self_pod else {}
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    tolerations = agent.tolerations
    if tolerations is None:
        tolerations = self_pod.tolerations if self_pod else ()
    if tolerations:
        pod_spec["tolerations"] = copy.deepcopy(list(tolerations))
    if self_pod is not None and self_pod.affinity:
        pod_spec["affinity"] = copy.deepcopy(self_pod.affinity)


# ---------------------------------------------------------------------------------------------
# Labels, annotations, paths.


def _labels(
    request: RunRequest, agent: cfg.AgentConfig
) -> tuple[dict[str, str], tuple[SkippedLabel, ...]]:
    agent_label = labels.sanitize_label_value(request.agent.id)
    run_label = labels.sanitize_label_value(request.run_id)
    if agent_label is None:
        raise ManifestError(f"agent id {request.agent.id!r} cannot be sanitised to a label value")
    if run_label is None:
        raise ManifestError(f"run id {request.run_id!r} cannot be sanitised to a label value")
    result = {
        labels.LABEL_MANAGED_BY: labels.MANAGED_BY,
        labels.LABEL_COMPONENT: labels.COMPONENT_JOB,
        labels.LABEL_AGENT_ID: agent_label,
        labels.LABEL_ADAPTER_TYPE: labels.ADAPTER_TYPE,
        labels.LABEL_RUN_ID: run_label,
    }
    skipped: list[SkippedLabel] = []
    for key, raw in (
        (labels.LABEL_COMPANY_ID, request.agent.company_id),
        (labels.LABEL_TASK_ID, request.task_key),
        (labels.LABEL_SESSION_ID, request.session_id),
    ):
        if raw is None:
            continue
        value = labels.sanitize_label_value(raw)
        if value is None:
            skipped.append(SkippedLabel(key, "its value has no characters valid in a label"))
        else:
            result[key] = value
    for key, value in agent.labels.items():
        if labels.is_reserved_label_key(key):
            skipped.append(SkippedLabel(key, "reserved prefix"))
        else:
            result[key] = value
    return result, tuple(skipped)


def _annotations(request: RunRequest, tee_path: str | None) -> dict[str, str]:
    annotations = {
        labels.ANNOTATION_ADAPTER_TYPE: labels.ADAPTER_TYPE,
        labels.ANNOTATION_RUN_ID: request.run_id,
        labels.ANNOTATION_AGENT_ID: request.agent.id,
    }
    optional = (
        (labels.ANNOTATION_AGENT_NAME, request.agent.name),
        (labels.ANNOTATION_COMPANY_ID, request.agent.company_id),
        (labels.ANNOTATION_TASK_KEY, request.task_key),
        (labels.ANNOTATION_SESSION_ID, request.session_id),
        (labels.ANNOTATION_LOG_PATH, tee_path),
    )
    annotations.update({key: value for key, value in optional if value is not None})
    return annotations


def _tee_relpath(run_log_dir: str, job_labels: Mapping[str, str], job: str) -> str:
    # Sanitised label values are never "", "." or ".." and hold no "/": safe path components.
    company = job_labels.get(labels.LABEL_COMPANY_ID, NO_COMPANY_COMPONENT)
    agent = job_labels[labels.LABEL_AGENT_ID]
    return posixpath.join(run_log_dir, company, agent, job + TEE_FILE_SUFFIX)


def _prompt_secret(request: RunRequest, name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                labels.LABEL_MANAGED_BY: labels.MANAGED_BY,
                labels.LABEL_COMPONENT: labels.COMPONENT_PROMPT,
                labels.LABEL_ADAPTER_TYPE: labels.ADAPTER_TYPE,
                labels.LABEL_AGENT_ID: labels.sanitize_label_value(request.agent.id) or "",
                labels.LABEL_RUN_ID: labels.sanitize_label_value(request.run_id) or "",
            },
            "annotations": {labels.ANNOTATION_RUN_ID: request.run_id},
        },
        "stringData": {PROMPT_SECRET_KEY: request.prompt},
    }


# ---------------------------------------------------------------------------------------------
# Patches the lifecycle sends, and reading facts back from a Job.


def secret_owner_patch(*, job_name: str, job_uid: str) -> Patch:
    """Make the prompt Secret owned by its Job, so garbage collection removes it with the Job."""
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": job_name,
        "uid": job_uid,
        "blockOwnerDeletion": False,
    }
    return Patch(MERGE_PATCH, {"metadata": {"ownerReferences": [owner]}})


def reattach_patch(*, run_id: str, session_id: str | None) -> Patch:
    """Relabel an adopted Job with the adopting run, so the next guard sees it as that run's.

    A merge patch adds or replaces each key; a JSON-patch ``replace`` of a missing label failed
    the whole patch in the seed adapter (B.14).
    """
    run_label = labels.sanitize_label_value(run_id)
    if run_label is None:
        raise ManifestError(f"run id {run_id!r} cannot be sanitised to a label value")
    new_labels = {labels.LABEL_RUN_ID: run_label}
    annotations = {labels.ANNOTATION_RUN_ID: run_id}
    if session_id is not None:
        session_label = labels.sanitize_label_value(session_id)
        if session_label is not None:
            new_labels[labels.LABEL_SESSION_ID] = session_label
        annotations[labels.ANNOTATION_SESSION_ID] = session_id
    return Patch(MERGE_PATCH, {"metadata": {"labels": new_labels, "annotations": annotations}})


def job_run_id(job: Mapping[str, Any]) -> str | None:
    """The run a Job belongs to: the raw id annotation, else the (sanitised) run-id label."""
    metadata = job.get("metadata") or {}
    annotated = (metadata.get("annotations") or {}).get(labels.ANNOTATION_RUN_ID)
    if annotated:
        return str(annotated)
    labelled = (metadata.get("labels") or {}).get(labels.LABEL_RUN_ID)
    return str(labelled) if labelled else None


_TEE_TARGET = re.compile(r"\|\s*tee\s+('(?:[^']|'\"'\"')*'|\S+)")


def tee_log_path_of(job: Mapping[str, Any]) -> str | None:
    """Where a Job's pod tees its output: the annotation, else read from the pod command.

    Reading the command also covers Jobs created by the seed adapter, which tee'd to a path
    derived from *their* run id — an adopting run must follow that file, not its own (B.1).
    """
    metadata = job.get("metadata") or {}
    annotated = (metadata.get("annotations") or {}).get(labels.ANNOTATION_LOG_PATH)
    if annotated:
        return str(annotated)
    pod_spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = [c for c in pod_spec.get("containers") or [] if isinstance(c, Mapping)]
    main = next((c for c in containers if c.get("name") == CONTAINER_CLAUDE), None)
    if main is None and containers:
        main = containers[0]
    if main is None:
        return None
    script = " ".join(str(part) for part in main.get("command") or [])
    match = _TEE_TARGET.search(script)
    if match is None:
        return None
    try:
        words = shlex.split(match[1])
    except ValueError:
        return None
    return words[0] if words else None
