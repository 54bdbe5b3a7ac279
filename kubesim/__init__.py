"""kubesim: an in-repo Kubernetes API simulator for tests and the demo.

The public names load lazily: container processes run ``python -m kubesim.<tool>`` (the fake
``claude``), which imports this package first, and must not pay for the server's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubesim.access import AccessRule as AccessRule
    from kubesim.faults import CrashLoop as CrashLoop
    from kubesim.faults import DeleteJob as DeleteJob
    from kubesim.faults import EvictPod as EvictPod
    from kubesim.faults import ExitEarly as ExitEarly
    from kubesim.faults import HttpError as HttpError
    from kubesim.faults import ImagePullFailure as ImagePullFailure
    from kubesim.faults import Latency as Latency
    from kubesim.faults import LogCut as LogCut
    from kubesim.faults import LogHang as LogHang
    from kubesim.faults import RotateLogs as RotateLogs
    from kubesim.faults import Unschedulable as Unschedulable
    from kubesim.logs import OutputLine as OutputLine
    from kubesim.sim import KubeSim as KubeSim
    from kubesim.sim import running as running

_HOMES = {
    "AccessRule": "kubesim.access",
    "CrashLoop": "kubesim.faults",
    "DeleteJob": "kubesim.faults",
    "EvictPod": "kubesim.faults",
    "ExitEarly": "kubesim.faults",
    "HttpError": "kubesim.faults",
    "ImagePullFailure": "kubesim.faults",
    "Latency": "kubesim.faults",
    "LogCut": "kubesim.faults",
    "LogHang": "kubesim.faults",
    "OutputLine": "kubesim.logs",
    "RotateLogs": "kubesim.faults",
    "Unschedulable": "kubesim.faults",
    "KubeSim": "kubesim.sim",
    "running": "kubesim.sim",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kubesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
