"""A kubeconfig for the simulator: plain HTTP on loopback, no credentials.

It is written as JSON (which is YAML), so writing it needs no YAML library; kubectl and the
``kubernetes`` client load it as is.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

CONTEXT = "kubesim"


def build(url: str, *, namespace: str = "default") -> dict[str, object]:
    """The kubeconfig document for a simulator at ``url``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
        "users": [{"name": CONTEXT, "user": {}}],
        "contexts": [
            {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT,
                                          "namespace": namespace}}
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write(path: Path, url: str, *, namespace: str = "default") -> Path:
    """Write the kubeconfig to ``path`` (mode 0600) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(build(url, namespace=namespace))))
    path.chmod(0o600)
    return path
