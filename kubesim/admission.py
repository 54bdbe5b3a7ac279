"""What the API server does to an object between decoding and storing it on create.

Validation answers ``422 Invalid`` naming each bad field; defaulting fills the fields a real
server fills (Job selector and pod-template labels, pod spec defaults, Secret ``stringData``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kubesim import errors, podspec, resources

Obj = dict[str, Any]

JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")


def _int_field(spec: Obj, name: str, minimum: int, causes: list[tuple[str, str]]) -> None:
    value = spec.get(name)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        causes.append((f"spec.{name}", f'Invalid value: "{value}": must be an integer'))
    elif value < minimum:
        causes.append(
            (f"spec.{name}", f"Invalid value: {value}: must be greater than or equal to {minimum}")
        )


def admit_job(job: Obj) -> Obj:
    """Validate and default a Job whose metadata is already filled.

    Raises:
        errors.Invalid: a field the controller relies on is missing or malformed.
    """
    name = job["metadata"]["name"]
    causes: list[tuple[str, str]] = []
    if len(name) > 63:
        causes.append((
            "metadata.name", f'Invalid value: "{name}": must be no more than 63 characters'
        ))
    spec = job.get("spec")
    if not isinstance(spec, dict):
        raise errors.Invalid("Job", "batch", name, [("spec.template", "Required value")])
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.append(("spec.template", "Required value"))
        template = {}
    causes += podspec.validate(
        template.get("spec"), "spec.template.spec", allowed_restart=("OnFailure", "Never")
    )
    _int_field(spec, "backoffLimit", 0, causes)
    _int_field(spec, "activeDeadlineSeconds", 1, causes)
    _int_field(spec, "ttlSecondsAfterFinished", 0, causes)
    _int_field(spec, "completions", 0, causes)
    _int_field(spec, "parallelism", 0, causes)
    if causes:
        raise errors.Invalid("Job", "batch", name, causes)

    uid = job["metadata"]["uid"]
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    spec.setdefault("manualSelector", None)
    if spec.get("manualSelector") is None:
        spec.pop("manualSelector")
        spec["selector"] = {"matchLabels": {CONTROLLER_UID_LABELS[0]: uid}}
    template_meta = template.setdefault("metadata", {})
    labels = template_meta.setdefault("labels", {})
    for label in CONTROLLER_UID_LABELS:
        labels[label] = uid
    for label in JOB_NAME_LABELS:
        labels[label] = name
    podspec.apply_defaults(template["spec"])
    job["status"] = {}
    return job


def admit_pod(pod: Obj) -> Obj:
    """Validate and default a Pod whose metadata is already filled.

    Raises:
        errors.Invalid: the spec is missing containers, names or images.
    """
    causes = podspec.validate(
        pod.get("spec"), "spec", allowed_restart=("Always", "OnFailure", "Never")
    )
    if causes:
        raise errors.Invalid("Pod", "", pod["metadata"]["name"], causes)
    podspec.apply_defaults(pod["spec"])
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return pod


def admit_secret(secret: Obj) -> Obj:
    """Fold ``stringData`` into ``data`` and check that ``data`` is base64.

    Raises:
        errors.Invalid: a ``data`` value is not base64 or a ``stringData`` value is not a string.
    """
    name = secret["metadata"]["name"]
    data = secret.get("data") or {}
    causes: list[tuple[str, str]] = []
    for key, value in data.items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            causes.append((f"data[{key}]", "Invalid value: must be base64-encoded"))
    for key, value in (secret.pop("stringData", None) or {}).items():
        if not isinstance(value, str):
            causes.append((f"stringData[{key}]", "Invalid value: must be a string"))
            continue
        data[key] = base64.b64encode(value.encode()).decode()
    if causes:
        raise errors.Invalid("Secret", "", name, causes)
    secret["data"] = data
    secret.setdefault("type", "Opaque")
    return secret


def admit(resource: resources.ResourceType, obj: Obj) -> Obj:
    """Run the create-time admission of ``resource`` on ``obj``."""
    if resource is resources.JOBS:
        return admit_job(obj)
    if resource is resources.PODS:
        return admit_pod(obj)
    if resource is resources.SECRETS:
        return admit_secret(obj)
    return obj


def decode_secret_data(secret: Obj) -> dict[str, bytes]:
    """The decoded ``data`` of a stored Secret."""
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}

