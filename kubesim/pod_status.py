"""Pod status as the kubelet writes it: container states, conditions and the phase.

Pure helpers over the ``status`` dict; the kubelet decides what happened, these shape it the
way ``kubectl`` and the Python client expect (every field the client models require, e.g.
``imageID`` and ``restartCount`` on each container status).
"""

from __future__ import annotations

from typing import Any

from kubesim import timefmt

Obj = dict[str, Any]

CONDITION_ORDER = (
    "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled",
    "DisruptionTarget",
)


def set_condition(
    status: Obj, kind: str, value: bool, *, reason: str | None = None, message: str | None = None
) -> None:
    """Set one pod condition, keeping ``lastTransitionTime`` unless its status changes."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    text = "True" if value else "False"
    existing = next((c for c in conditions if c["type"] == kind), None)
    if existing is None:
        existing = {"type": kind, "status": text, "lastProbeTime": None,
                    "lastTransitionTime": timefmt.now_seconds()}
        conditions.append(existing)
        conditions.sort(key=lambda c: CONDITION_ORDER.index(c["type"])
                        if c["type"] in CONDITION_ORDER else len(CONDITION_ORDER))
    elif existing["status"] != text:
        existing["status"] = text
        existing["lastTransitionTime"] = timefmt.now_seconds()
    for field, given in (("reason", reason), ("message", message)):
        if given is None:
            existing.pop(field, None)
        else:
            existing[field] = given


def container_status(container: Obj) -> Obj:
    """A fresh status for a container that has not started."""
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
    }


def waiting(entry: Obj, reason: str, message: str | None = None) -> None:
    """Put a container status into ``waiting``."""
    state: Obj = {"reason": reason}
    if message:
        state["message"] = message
    entry["state"] = {"waiting": state}
    entry["ready"] = False
    entry["started"] = False


def running(entry: Obj, *, container_id: str, image_id: str) -> None:
    """Put a container status into ``running`` from now."""
    entry["state"] = {"running": {"startedAt": timefmt.now_seconds()}}
    entry["containerID"] = container_id
    entry["imageID"] = image_id
    entry["started"] = True
    entry["ready"] = True


def terminated(
    entry: Obj,
    *,
    exit_code: int,
    started_at: str,
    reason: str | None = None,
    message: str | None = None,
    signal: int | None = None,
) -> None:
    """Put a container status into ``terminated``."""
    state: Obj = {
        "exitCode": exit_code,
        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
        "startedAt": started_at,
        "finishedAt": timefmt.now_seconds(),
    }
    if entry.get("containerID"):
        state["containerID"] = entry["containerID"]
    if message:
        state["message"] = message
    if signal is not None:
        state["signal"] = signal
    entry["state"] = {"terminated": state}
    entry["ready"] = False
    entry["started"] = False


def restart(entry: Obj) -> None:
    """Move the current terminated state to ``lastState`` and count a restart."""
    entry["lastState"] = entry["state"]
    entry["restartCount"] = entry.get("restartCount", 0) + 1


def is_terminal(pod: Obj) -> bool:
    """Whether the pod's phase is Succeeded or Failed."""
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_ready(pod: Obj) -> bool:
    """Whether the pod reports condition Ready=True."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return bool(condition["status"] == "True")
    return False
