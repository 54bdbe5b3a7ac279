"""Kubernetes ``Event`` objects, as controllers record them (``kubectl describe`` lists them)."""

from __future__ import annotations

from kubesim import resources, timefmt
from kubesim.meta import Names
from kubesim.store import Obj, Store


def record(
    store: Store,
    names: Names,
    involved: Obj,
    *,
    reason: str,
    message: str,
    component: str,
    warning: bool = False,
) -> None:
    """Store one Event about ``involved``."""
    meta = involved["metadata"]
    now = timefmt.now_seconds()
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{names.uid().replace('-', '')[:16]}",
            "namespace": meta.get("namespace", "default"),
            "uid": names.uid(),
            "creationTimestamp": now,
        },
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", ""),
            "kind": involved.get("kind", ""),
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": "Warning" if warning else "Normal",
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
    }
    store.create(resources.EVENTS, event)
