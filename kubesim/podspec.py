"""Pod spec validation and defaulting, shared by Pods and Job templates.

Only what a client can observe is defaulted (the fields ``kubectl get -o yaml`` shows and the
kubelet here reads); validation rejects what a real API server rejects for the fields the
simulator acts on, with the same ``field: message`` wording.
"""

from __future__ import annotations

from typing import Any

from kubesim import meta

Obj = dict[str, Any]
Causes = list[tuple[str, str]]


def _container_causes(path: str, container: Any, seen: set[str]) -> Causes:
    if not isinstance(container, dict):
        return [(path, "Invalid value: must be an object")]
    causes: Causes = []
    name = container.get("name")
    if not name:
        causes.append((f"{path}.name", "Required value"))
    elif not isinstance(name, str) or meta.dns_label_problem(name):
        causes.append((f"{path}.name", f'Invalid value: "{name}": {meta.dns_label_problem(str(name))}'))
    elif name in seen:
        causes.append((f"{path}.name", f'Duplicate value: "{name}"'))
    else:
        seen.add(name)
    if not container.get("image"):
        causes.append((f"{path}.image", "Required value"))
    for field in ("command", "args"):
        value = container.get(field)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(part, str) for part in value)
        ):
            causes.append((f"{path}.{field}", "Invalid value: must be a list of strings"))
    for index, entry in enumerate(container.get("env") or []):
        if not isinstance(entry, dict) or not entry.get("name"):
            causes.append((f"{path}.env[{index}].name", "Required value"))
    return causes


def validate(spec: Any, path: str, *, allowed_restart: tuple[str, ...]) -> Causes:
    """Every problem with a pod spec, as (field path, message) pairs."""
    if not isinstance(spec, dict):
        return [(path, "Required value")]
    causes: Causes = []
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.append((f"{path}.containers", "Required value"))
        containers = []
    seen: set[str] = set()
    for index, container in enumerate(spec.get("initContainers") or []):
        causes += _container_causes(f"{path}.initContainers[{index}]", container, seen)
    for index, container in enumerate(containers):
        causes += _container_causes(f"{path}.containers[{index}]", container, seen)
    restart = spec.get("restartPolicy", "Always")
    if restart not in allowed_restart:
        supported = ", ".join(f'"{value}"' for value in allowed_restart)
        causes.append(
            (f"{path}.restartPolicy", f'Unsupported value: "{restart}": supported values: '
             f"{supported}")
        )
    volume_names = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        if not isinstance(volume, dict) or not volume.get("name"):
            causes.append((f"{path}.volumes[{index}].name", "Required value"))
        else:
            volume_names.add(volume["name"])
    for group in ("initContainers", "containers"):
        for c_index, container in enumerate(spec.get(group) or []):
            if not isinstance(container, dict):
                continue
            for m_index, mount in enumerate(container.get("volumeMounts") or []):
                where = f"{path}.{group}[{c_index}].volumeMounts[{m_index}]"
                if not isinstance(mount, dict) or mount.get("name") not in volume_names:
                    name = mount.get("name") if isinstance(mount, dict) else mount
                    causes.append((f"{where}.name", f'Not found: "{name}"'))
                elif not str(mount.get("mountPath", "")).startswith("/"):
                    causes.append((f"{where}.mountPath", "Invalid value: must be an absolute path"))
    return causes


def _default_container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    default_pull = "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", default_pull)
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")


def apply_defaults(spec: Obj) -> None:
    """Fill the defaults an API server adds to a pod spec."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in [*(spec.get("initContainers") or []), *spec.get("containers", [])]:
        _default_container(container)
    for volume in spec.get("volumes") or []:
        if "secret" in volume:
            volume["secret"].setdefault("defaultMode", 0o644)
