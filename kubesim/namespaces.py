"""Namespaces: every namespace exists (objects may be created in any), and reads say so.

``kubectl apply`` reads the target namespace first; answering with an Active Namespace keeps
that path the same as on a cluster. The list holds ``default``, ``kube-system`` and every
namespace that has objects.
"""

from __future__ import annotations

import uuid

from kubesim import errors, resources, timefmt
from kubesim.asgi import AnyResponse, json_response
from kubesim.store import Obj, Store


class Namespaces:
    """Synthesises Namespace objects from what the store holds."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._created = timefmt.now_seconds()

    def _namespace(self, name: str) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kubesim/namespace/{name}")),
                "resourceVersion": "1",
                "creationTimestamp": self._created,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def answer(self, method: str, name: str | None) -> AnyResponse:
        """GET one namespace or the list."""
        if method != "GET":
            raise errors.MethodNotAllowed(method)
        if name is not None:
            return json_response(self._namespace(name))
        names = {"default", "kube-system"}
        for resource in resources.STORED:
            names.update(key[1] for key in self._store.names(resource))
        return json_response({
            "kind": "NamespaceList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(self._store.resource_version)},
            "items": [self._namespace(item) for item in sorted(names)],
        })
