"""A container's environment and command line, resolved the way the kubelet does it.

Layering, later wins: the simulator's base (``PATH``, ``HOME``, ``HOSTNAME``, the
``KUBERNETES_SERVICE_*`` pair) and its configured extra env, then ``envFrom`` sources in order,
then ``env`` entries in order. ``$(NAME)`` in ``env`` values, ``command`` and ``args`` expands to
a variable defined earlier (``$$`` escapes, unknown references stay as written). Nothing from the
simulator's own process environment leaks in.

A missing Secret/ConfigMap or key that is not ``optional`` is a ``ContainerConfigError``, which
the kubelet shows as the waiting reason ``CreateContainerConfigError``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

Obj = dict[str, Any]
Lookup = Callable[[str, str], Obj | None]

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_FIELD_INDEX = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ContainerConfigError(Exception):
    """The container's configuration cannot be resolved (message as the kubelet words it)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$(NAME)`` references against ``env``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _REFERENCE.sub(replace, text)


def _source_data(kind: str, obj: Obj) -> dict[str, str]:
    data = obj.get("data") or {}
    if kind == "secrets":
        return {key: base64.b64decode(value).decode(errors="replace") for key, value in data.items()}
    return {key: str(value) for key, value in data.items()}


def _field_ref(pod: Obj, path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
    }
    if path in simple:
        return str(simple[path])
    if match := _FIELD_INDEX.match(path):
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ContainerConfigError(f"unsupported fieldRef fieldPath {path!r}")


def _key_ref(kind: str, ref: Obj, lookup: Lookup, namespace: str) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    obj = lookup(kind, name)
    label = "Secret" if kind == "secrets" else "ConfigMap"
    if obj is None:
        if ref.get("optional"):
            return None
        raise ContainerConfigError(f'{label.lower()} "{name}" not found')
    data = _source_data(kind, obj)
    if key not in data:
        if ref.get("optional"):
            return None
        raise ContainerConfigError(f"couldn't find key {key} in {label} {namespace}/{name}")
    return data[key]


def resolve_env(pod: Obj, container: Obj, base: Mapping[str, str], lookup: Lookup) -> dict[str, str]:
    """The full environment of ``container``.

    Args:
        base: the simulator's base and extra env (lowest precedence).
        lookup: ``(resource, name) -> object`` in the pod's namespace.

    Raises:
        ContainerConfigError: a required Secret, ConfigMap or key is missing.
    """
    namespace = pod["metadata"].get("namespace", "")
    env = dict(base)
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, field in (("secrets", "secretRef"), ("configmaps", "configMapRef")):
            if field not in source:
                continue
            ref = source[field]
            obj = lookup(kind, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                label = "secret" if kind == "secrets" else "configmap"
                raise ContainerConfigError(f'{label} "{ref.get("name", "")}" not found')
            for key, value in _source_data(kind, obj).items():
                if _ENV_NAME.match(prefix + key):
                    env[prefix + key] = value
    for entry in container.get("env") or []:
        name = entry["name"]
        if "value" in entry:
            env[name] = expand(str(entry["value"]), env)
            continue
        source = entry.get("valueFrom")
        if not source:
            env[name] = ""
        elif "secretKeyRef" in source or "configMapKeyRef" in source:
            kind = "secrets" if "secretKeyRef" in source else "configmaps"
            ref = source["secretKeyRef" if kind == "secrets" else "configMapKeyRef"]
            resolved = _key_ref(kind, ref, lookup, namespace)
            if resolved is not None:
                env[name] = resolved
        elif "fieldRef" in source:
            env[name] = _field_ref(pod, source["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in source:
            env[name] = "0"
        else:
            raise ContainerConfigError(f"env {name}: unsupported valueFrom {sorted(source)}")
    return env


def command_line(container: Obj, env: Mapping[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(NAME)`` expanded (images have no entrypoint here).

    Raises:
        ContainerConfigError: neither command nor args is given.
    """
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    if not argv:
        raise ContainerConfigError(
            f'container "{container.get("name")}" has no command: kubesim runs no images, so a '
            "container needs command or args"
        )
    return [expand(part, env) for part in argv]
