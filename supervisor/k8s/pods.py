"""Reading a run's pod: diagnostics while it starts, and the claude container's exit.

Pure functions over Pod objects as the API returns them (dicts). The messages follow
the seed adapter's wording (reference §1.2) so operators recognise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Pod = Mapping[str, Any]

_IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})


def _statuses(pod: Pod, key: str) -> list[Mapping[str, Any]]:
    return list((pod.get("status") or {}).get(key) or [])


def phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def container_state(pod: Pod, container: str) -> Mapping[str, Any]:
    for status in _statuses(pod, "containerStatuses"):
        if status.get("name") == container:
            return status.get("state") or {}
    return {}


def terminated(pod: Pod, container: str) -> Mapping[str, Any] | None:
    """The container's ``state.terminated``, or None while it has not exited."""
    state = container_state(pod, container)
    found = state.get("terminated")
    return found if isinstance(found, Mapping) else None


def container_done(pod: Pod | None, container: str) -> bool:
    """True once the container can print nothing more (exited, or the pod is finished/gone)."""
    if pod is None:
        return True
    if (pod.get("metadata") or {}).get("deletionTimestamp") and phase(pod) != "Running":
        return True
    return terminated(pod, container) is not None or phase(pod) in ("Succeeded", "Failed")


def streamable(pod: Pod, container: str) -> bool:
    """The container has started, so its log can be followed."""
    if phase(pod) in ("Running", "Succeeded"):
        return True
    inits = _statuses(pod, "initContainerStatuses")
    inits_done = bool(inits) and all(
        ((s.get("state") or {}).get("terminated") or {}).get("exitCode") == 0 for s in inits)
    state = container_state(pod, container)
    return inits_done and ("running" in state or "terminated" in state)


def describe(pod: Pod) -> str:
    """One status line: phase, each init container, each container."""
    name = (pod.get("metadata") or {}).get("name", "?")
    parts = [f"phase={phase(pod)}"]
    for status in _statuses(pod, "initContainerStatuses"):
        state = status.get("state") or {}
        if "waiting" in state:
            parts.append(f"init/{status.get('name')}: waiting ({state['waiting'].get('reason') or 'unknown'})")
        elif "running" in state:
            parts.append(f"init/{status.get('name')}: running")
        elif "terminated" in state:
            parts.append(f"init/{status.get('name')}: done (exit {state['terminated'].get('exitCode')})")
    for status in _statuses(pod, "containerStatuses"):
        state = status.get("state") or {}
        if "waiting" in state:
            parts.append(f"{status.get('name')}: waiting ({state['waiting'].get('reason') or 'unknown'})")
        elif "running" in state:
            parts.append(f"{status.get('name')}: running")
        elif "terminated" in state:
            term = state["terminated"]
            parts.append(f"{status.get('name')}: terminated (exit {term.get('exitCode', '?')}, "
                         f"{term.get('reason') or 'no reason'})")
    return f"Pod {name}: " + ", ".join(parts)


def failure(pod: Pod, container: str) -> str | None:
    """Why the pod can never run the container, or None while it still may."""
    name = (pod.get("metadata") or {}).get("name", "?")
    status = pod.get("status") or {}
    if phase(pod) == "Failed":
        term = terminated(pod, container)
        reason = status.get("reason") or ""
        if term is None:
            why = status.get("message") or reason
            return f"Pod {name} reached phase=Failed" + (f": {why}" if why else "")
        why = term.get("reason") or term.get("message") or reason or "no reason"
        return (f"Pod {name} reached phase=Failed: {container} exited "
                f"{term.get('exitCode', 'unknown')} ({why})")
    for init in _statuses(pod, "initContainerStatuses"):
        state = init.get("state") or {}
        init_name = init.get("name")
        term = state.get("terminated")
        if term and term.get("exitCode", 0) != 0:
            why = term.get("reason") or term.get("message") or "unknown"
            return f'Init container "{init_name}" failed with exit code {term.get("exitCode")}: {why}'
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in _IMAGE_PULL:
            return f'Init container "{init_name}" image pull failed: {waiting.get("message") or waiting["reason"]}'
        if waiting.get("reason") == "CrashLoopBackOff":
            return f'Init container "{init_name}" crash loop: {waiting.get("message") or waiting["reason"]}'
    for condition in status.get("conditions") or []:
        if (condition.get("type") == "PodScheduled" and condition.get("status") == "False"
                and condition.get("reason") == "Unschedulable"):
            return f"Pod unschedulable: {condition.get('message') or 'insufficient resources'}"
    for main in _statuses(pod, "containerStatuses"):
        waiting = (main.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in _IMAGE_PULL:
            return f'Image pull failed for "{main.get("name")}": {waiting.get("message") or waiting["reason"]}'
        if waiting.get("reason") == "CrashLoopBackOff":
            return f'Container "{main.get("name")}" crash loop: {waiting.get("message") or waiting["reason"]}'
    return None


def newest(candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The most recently created of a Job's pods (None for none)."""
    return max(candidates, key=lambda p: str(p["metadata"].get("creationTimestamp", "")),
               default=None)


def node_name(pod: Pod) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def job_outcome(job: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """(outcome, reason, message) of a Job: active, complete, failed, deadline, or gone."""
    if job is None:
        return "gone", "", ""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        kind = condition.get("type")
        reason = str(condition.get("reason") or "")
        message = str(condition.get("message") or "")
        if kind == "Complete":
            return "complete", reason, message
        if kind == "Failed":
            return ("deadline" if reason == "DeadlineExceeded" else "failed"), reason, message
    return "active", "", ""
