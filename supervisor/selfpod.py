"""What a run's Job inherits from the supervisor's own pod.

Why this module exists: in a cluster the supervisor runs inside the Paperclip pod, whose main
container already has what a Claude run needs — the image with the CLI, image pull secrets, DNS
settings, the shared workspace volume, mounted secrets, scheduling constraints, and the env that
carries provider credentials. Copying those keeps operators from configuring everything twice.

Rules (reference section 2.9, with the seed's lessons):
* The source container is the one named ``paperclip``, else the first — never a service-mesh
  sidecar that happens to come first.
* Secrets stay references: ``env[].valueFrom`` and ``envFrom`` are copied as they are, never
  resolved into values; literal env entries are copied only when non-empty.
* The supervisor's own settings (env names starting with ``PAPERCLIP_SUPERVISOR_``) are not
  handed to Claude.
* Nothing is interpreted here; explicit configuration beats inherited values in the manifest
  builder (key-presence rules for ``nodeSelector``/``tolerations``, see `supervisor.config`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCE_CONTAINER_NAME = "paperclip"
SUPERVISOR_ENV_PREFIX = "PAPERCLIP_SUPERVISOR_"
SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_NAMESPACE = "default"


class SelfPodError(ValueError):
    """The supervisor's pod cannot be used as the inheritance source."""


@dataclass(frozen=True)
class PvcMount:
    """A PersistentVolumeClaim mounted into the source container."""

    mount_path: str
    claim_name: str
    sub_path: str | None = None


@dataclass(frozen=True)
class SecretVolume:
    """A Secret volume mounted into the source container, re-mounted read-only in Jobs."""

    volume_name: str
    mount_path: str
    secret: dict[str, Any]
    """The volume's ``secret`` source (secretName, items, defaultMode), copied as is."""
    sub_path: str | None = None


@dataclass(frozen=True)
class SelfPod:
    """The inheritable parts of the supervisor's pod. Dict fields are private copies."""

    name: str
    namespace: str | None
    image: str
    image_pull_secrets: tuple[dict[str, Any], ...] = ()
    dns_config: dict[str, Any] | None = None
    security_context: dict[str, Any] | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    affinity: dict[str, Any] | None = None
    pvc_mounts: tuple[PvcMount, ...] = ()
    secret_volumes: tuple[SecretVolume, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """Literal env entries with non-empty values, in pod order."""
    env_value_from: tuple[dict[str, Any], ...] = ()
    """Env entries with ``valueFrom``, as they are (secretKeyRef, configMapKeyRef, fieldRef...)."""
    env_from: tuple[dict[str, Any], ...] = ()

    def pvc_at(self, mount_path: str) -> PvcMount | None:
        """The claim mounted exactly at ``mount_path`` (the workspace volume), if any."""
        for mount in self.pvc_mounts:
            if mount.mount_path.rstrip("/") == mount_path.rstrip("/"):
                return mount
        return None


def read_self_pod(pod: Mapping[str, Any]) -> SelfPod:
    """Extract the inheritable parts of a Pod object (a dict as the API returns it).

    Raises:
        SelfPodError: the pod has no spec, no containers, or its source container no image.
    """
    metadata = pod.get("metadata") or {}
    name = str(metadata.get("name") or "<unnamed>")
    spec = pod.get("spec")
    if not isinstance(spec, Mapping):
        raise SelfPodError(f"pod {name} has no spec")
    container = _source_container(spec.get("containers") or [])
    if container is None:
        raise SelfPodError(f"pod {name} has no containers")
    image = container.get("image")
    if not isinstance(image, str) or not image.strip():
        raise SelfPodError(f"pod {name} has no container image")

    volumes = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, Mapping)}
    pvc_mounts: list[PvcMount] = []
    secret_volumes: list[SecretVolume] = []
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name")) or {}
        sub_path = mount.get("subPath") or None
        if isinstance(volume.get("persistentVolumeClaim"), Mapping):
            claim = volume["persistentVolumeClaim"].get("claimName")
            if claim:
                pvc_mounts.append(PvcMount(mount["mountPath"], claim, sub_path))
        elif isinstance(volume.get("secret"), Mapping):
            secret_volumes.append(
                SecretVolume(
                    volume_name=mount["name"],
                    mount_path=mount["mountPath"],
                    secret=copy.deepcopy(dict(volume["secret"])),
                    sub_path=sub_path,
                )
            )

    env: list[tuple[str, str]] = []
    env_value_from: list[dict[str, Any]] = []
    for entry in container.get("env") or []:
        entry_name = entry.get("name")
        if not isinstance(entry_name, str) or entry_name.startswith(SUPERVISOR_ENV_PREFIX):
            continue
        if entry.get("valueFrom") is not None:
            env_value_from.append(copy.deepcopy(dict(entry)))
        elif isinstance(entry.get("value"), str) and entry["value"] != "":
            env.append((entry_name, entry["value"]))

    return SelfPod(
        name=name,
        namespace=metadata.get("namespace") or None,
        image=image.strip(),
        image_pull_secrets=tuple(
            {"name": s["name"]}
            for s in spec.get("imagePullSecrets") or []
            if isinstance(s, Mapping) and s.get("name")
        ),
        dns_config=_copy_or_none(spec.get("dnsConfig")),
        security_context=_copy_or_none(spec.get("securityContext")),
        node_selector=dict(spec.get("nodeSelector") or {}),
        tolerations=tuple(copy.deepcopy(list(spec.get("tolerations") or []))),
        affinity=_copy_or_none(spec.get("affinity")),
        pvc_mounts=tuple(pvc_mounts),
        secret_volumes=tuple(secret_volumes),
        env=tuple(env),
        env_value_from=tuple(env_value_from),
        env_from=tuple(copy.deepcopy(list(container.get("envFrom") or []))),
    )


def _source_container(containers: list[Any]) -> Mapping[str, Any] | None:
    candidates = [c for c in containers if isinstance(c, Mapping)]
    for container in candidates:
        if container.get("name") == SOURCE_CONTAINER_NAME:
            return container
    return candidates[0] if candidates else None


def _copy_or_none(value: Any) -> dict[str, Any] | None:
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) and value else None


def self_pod_location(
    environ: Mapping[str, str],
    *,
    namespace_file: Path = SERVICE_ACCOUNT_NAMESPACE_FILE,
) -> tuple[str, str]:
    """Where the supervisor's own pod is: ``(pod name, namespace)``.

    The name is ``HOSTNAME``; the namespace is ``PAPERCLIP_NAMESPACE``, else ``POD_NAMESPACE``,
    else the service-account namespace file, else ``default``.

    Raises:
        SelfPodError: ``HOSTNAME`` is not set, so the pod cannot be found.
    """
    name = environ.get("HOSTNAME", "").strip()
    if not name:
        raise SelfPodError("HOSTNAME env var not set — cannot find the supervisor's own pod")
    for variable in ("PAPERCLIP_NAMESPACE", "POD_NAMESPACE"):
        namespace = environ.get(variable, "").strip()
        if namespace:
            return name, namespace
    try:
        namespace = namespace_file.read_text().strip()
    except OSError:
        namespace = ""
    return name, namespace or DEFAULT_NAMESPACE
