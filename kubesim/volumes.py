"""Pod volumes as real local directories.

* ``emptyDir``: a fresh directory under the pod's work directory, removed with the pod.
* ``secret`` / ``configMap``: a directory the kubelet fills with one file per key (or per
  ``items`` entry) from the stored object, with ``defaultMode`` / ``mode``.
* ``persistentVolumeClaim``: the host directory configured for the claim name; a claim with no
  configured directory gets one under the simulator's work directory (there is no PVC
  resource to be missing), so a test can read what the pod wrote via ``KubeSim.pvc_dir``.
* ``hostPath``: the path itself.

Anything else is an error naming the volume.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kubesim.isolation import VolumeMount

Obj = dict[str, Any]


class VolumeError(Exception):
    """A volume cannot be set up (yet): the message is what the pod's events would say."""


def _write_keys(
    directory: Path, data: Mapping[str, bytes], items: list[Obj] | None, default_mode: int
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    selected = (
        [(str(item["key"]), str(item.get("path") or item["key"]), item.get("mode"))
         for item in items]
        if items
        else [(key, key, None) for key in data]
    )
    for key, relative, mode in selected:
        if key not in data:
            raise VolumeError(f"configmap/secret key {key!r} not found")
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[key])
        target.chmod(mode if mode is not None else default_mode)


def prepare(
    pod: Obj,
    pod_dir: Path,
    *,
    lookup: Callable[[str, str], Obj | None],
    claim_dir: Callable[[str], Path],
) -> dict[str, Path]:
    """Materialise every volume of ``pod``; returns volume name -> host directory.

    Args:
        lookup: ``(resource, name) -> object`` in the pod's namespace (secrets, configmaps).
        claim_dir: the host directory of a PVC claim name.

    Raises:
        VolumeError: a referenced Secret/ConfigMap is missing or the volume type is unknown.
    """
    result: dict[str, Path] = {}
    for volume in pod["spec"].get("volumes") or []:
        name = volume["name"]
        local = pod_dir / "volumes" / name
        if "emptyDir" in volume:
            local.mkdir(parents=True, exist_ok=True)
            result[name] = local
        elif "secret" in volume or "configMap" in volume:
            is_secret = "secret" in volume
            source = volume["secret" if is_secret else "configMap"]
            ref = source.get("secretName" if is_secret else "name", "")
            obj = lookup("secrets" if is_secret else "configmaps", ref)
            if obj is None:
                if source.get("optional"):
                    local.mkdir(parents=True, exist_ok=True)
                    result[name] = local
                    continue
                kind = "secret" if is_secret else "configmap"
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : {kind} "{ref}" not found'
                )
            if is_secret:
                data = {key: base64.b64decode(value) for key, value in (obj.get("data") or {}).items()}
            else:
                data = {key: str(value).encode() for key, value in (obj.get("data") or {}).items()}
            _write_keys(local, data, source.get("items"), source.get("defaultMode", 0o644))
            result[name] = local
        elif "persistentVolumeClaim" in volume:
            directory = claim_dir(volume["persistentVolumeClaim"]["claimName"])
            directory.mkdir(parents=True, exist_ok=True)
            result[name] = directory
        elif "hostPath" in volume:
            result[name] = Path(volume["hostPath"]["path"])
        else:
            kinds = sorted(set(volume) - {"name"})
            raise VolumeError(f'volume "{name}": unsupported volume type {kinds}')
    return result


def read_only_volumes(pod: Obj) -> set[str]:
    """Names of the volumes the kubelet always mounts read-only (Secrets, ConfigMaps)."""
    return {
        volume["name"]
        for volume in pod["spec"].get("volumes") or []
        if "secret" in volume or "configMap" in volume
    }


def container_mounts(
    container: Obj, volume_dirs: Mapping[str, Path], *, read_only: set[str]
) -> list[VolumeMount]:
    """The mounts of one container, resolved to host paths (``subPath`` included)."""
    mounts: list[VolumeMount] = []
    for mount in container.get("volumeMounts") or []:
        source = volume_dirs[mount["name"]]
        sub_path = mount.get("subPath")
        if sub_path:
            source = source / sub_path
            if not source.exists():
                source.mkdir(parents=True)
        mounts.append(
            VolumeMount(
                source=source,
                target=mount["mountPath"],
                read_only=bool(mount.get("readOnly")) or mount["name"] in read_only,
                is_file=source.is_file(),
            )
        )
    mounts.sort(key=lambda mount: mount.target.count("/"))
    return mounts
