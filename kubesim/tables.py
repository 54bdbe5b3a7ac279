"""``meta.k8s.io/v1 Table`` answers, so ``kubectl get`` prints the real columns.

The columns and cell rules follow kubectl's printers for Jobs (NAME, STATUS, COMPLETIONS,
DURATION, AGE; wide adds CONTAINERS, IMAGES, SELECTOR) and Pods (NAME, READY, STATUS,
RESTARTS, AGE; wide adds IP, NODE, NOMINATED NODE, READINESS GATES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim import pod_status, resources, timefmt
from kubesim.resources import ResourceType

Obj = dict[str, Any]


def _age(stamp: str | None) -> str:
    if not stamp:
        return "<unknown>"
    return timefmt.human_duration((timefmt.now_ns() - timefmt.parse(stamp)) / 1e9)


def _column(name: str, kind: str = "string", *, priority: int = 0, fmt: str = "") -> Obj:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _has(job: Obj, kind: str) -> bool:
    return any(
        c["type"] == kind and c["status"] == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def _job_cells(job: Obj) -> list[Any]:
    status = job.get("status") or {}
    if _has(job, "Complete"):
        state = "Complete"
    elif _has(job, "Failed"):
        state = "Failed"
    elif job["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif _has(job, "Suspended"):
        state = "Suspended"
    elif _has(job, "FailureTarget"):
        state = "FailureTarget"
    elif _has(job, "SuccessCriteriaMet"):
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    completions = job["spec"].get("completions")
    done = status.get("succeeded", 0)
    completions_cell = f"{done}/{completions}" if completions is not None else f"{done}/1 of 1"
    duration = ""
    if status.get("startTime"):
        start = timefmt.parse(status["startTime"])
        end = timefmt.parse(status["completionTime"]) if status.get("completionTime") else (
            timefmt.now_ns()
        )
        duration = timefmt.human_duration((end - start) / 1e9)
    pod_spec = job["spec"]["template"]["spec"]
    selector = ",".join(
        f"{k}={v}" for k, v in ((job["spec"].get("selector") or {}).get("matchLabels") or {}).items()
    )
    return [
        job["metadata"]["name"], state, completions_cell, duration,
        _age(job["metadata"].get("creationTimestamp")),
        ",".join(c["name"] for c in pod_spec["containers"]),
        ",".join(c.get("image", "") for c in pod_spec["containers"]),
        selector,
    ]


def _pod_reason(pod: Obj) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    inits = status.get("initContainerStatuses") or []
    initializing = False
    for index, entry in enumerate(inits):
        terminated = entry["state"].get("terminated")
        waiting = entry["state"].get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = "Init:" + (terminated.get("reason") or f"ExitCode:{terminated['exitCode']}")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(inits)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for entry in reversed(status.get("containerStatuses") or []):
            state = entry["state"]
            if state.get("waiting", {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated", {}).get("reason"):
                reason = state["terminated"]["reason"]
            elif state.get("terminated"):
                terminated = state["terminated"]
                reason = (f"Signal:{terminated['signal']}" if terminated.get("signal")
                          else f"ExitCode:{terminated['exitCode']}")
            elif state.get("running") and entry.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if pod_status.is_ready(pod) else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_cells(pod: Obj) -> list[Any]:
    status = pod.get("status") or {}
    mains = status.get("containerStatuses") or []
    total = len(pod["spec"]["containers"])
    ready = sum(1 for entry in mains if entry.get("ready"))
    restarts = sum(entry.get("restartCount", 0) for entry in mains)
    return [
        pod["metadata"]["name"], f"{ready}/{total}", _pod_reason(pod), str(restarts),
        _age(pod["metadata"].get("creationTimestamp")),
        status.get("podIP") or "<none>", pod["spec"].get("nodeName") or "<none>", "<none>",
        "<none>",
    ]


def _secret_cells(secret: Obj) -> list[Any]:
    return [secret["metadata"]["name"], secret.get("type", "Opaque"),
            len(secret.get("data") or {}), _age(secret["metadata"].get("creationTimestamp"))]


def _event_cells(event: Obj) -> list[Any]:
    involved = event.get("involvedObject") or {}
    return [
        _age(event.get("lastTimestamp") or event["metadata"].get("creationTimestamp")),
        event.get("type", ""), event.get("reason", ""),
        f"{involved.get('kind', '').lower()}/{involved.get('name', '')}", event.get("message", ""),
    ]


def _default_cells(obj: Obj) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj["metadata"].get("creationTimestamp"))]


_NAME_AGE = [_column("Name", fmt="name"), _column("Age")]
_TABLES: dict[str, tuple[list[Obj], Callable[[Obj], list[Any]]]] = {
    resources.JOBS.name: (
        [_column("Name", fmt="name"), _column("Status"), _column("Completions"),
         _column("Duration"), _column("Age"), _column("Containers", priority=1),
         _column("Images", priority=1), _column("Selector", priority=1)],
        _job_cells,
    ),
    resources.PODS.name: (
        [_column("Name", fmt="name"), _column("Ready"), _column("Status"),
         _column("Restarts", "string"), _column("Age"), _column("IP", priority=1),
         _column("Node", priority=1), _column("Nominated Node", priority=1),
         _column("Readiness Gates", priority=1)],
        _pod_cells,
    ),
    resources.SECRETS.name: (
        [_column("Name", fmt="name"), _column("Type"), _column("Data", "integer"),
         _column("Age")],
        _secret_cells,
    ),
    resources.EVENTS.name: (
        [_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"),
         _column("Message")],
        _event_cells,
    ),
}


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for a ``meta.k8s.io`` Table."""
    return "as=Table" in accept


def table(resource: ResourceType, items: list[Obj], *, resource_version: str,
          include_object: str | None, continue_token: str | None = None) -> Obj:
    """Render objects as a Table."""
    columns, cells = _TABLES.get(resource.name, (_NAME_AGE, _default_cells))
    rows = []
    for obj in items:
        row: Obj = {"cells": cells(obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append(row)
    metadata: Obj = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }
