"""Object metadata the API server owns: names, uids, timestamps, owner references.

Every random choice (uids, ``generateName`` suffixes) draws from one seeded ``random.Random``,
so a simulator run with the same seed and the same calls names everything the same way.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

from kubesim import errors, timefmt
from kubesim.resources import ResourceType

Obj = dict[str, Any]

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's: no vowels, no 0/1/3
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class Names:
    """Deterministic source of uids and name suffixes."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def reseed(self, seed: str) -> None:
        """Continue from a new seed (deterministically)."""
        self._rng.seed(seed)

    def uid(self) -> str:
        """A fresh UUID4-shaped uid."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def suffix(self, length: int = 5) -> str:
        """A random suffix like the API server appends to ``generateName``."""
        return "".join(self._rng.choice(_SUFFIX_ALPHABET) for _ in range(length))


def dns_subdomain_problem(name: str) -> str | None:
    """Why ``name`` is not a valid DNS-1123 subdomain, or None."""
    if len(name) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.match(name):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character"
        )
    return None


def dns_label_problem(name: str) -> str | None:
    """Why ``name`` is not a valid DNS-1123 label, or None."""
    if len(name) > 63:
        return "must be no more than 63 characters"
    if not _DNS_LABEL.match(name):
        return (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            "'-', and must start and end with an alphanumeric character"
        )
    return None


def prepare_new(
    resource: ResourceType, obj: Obj, *, namespace: str, names: Names, taken: set[str]
) -> Obj:
    """Fill the server-owned metadata of an object being created.

    Raises:
        errors.BadRequest: the body's namespace disagrees with the URL.
        errors.Invalid: there is neither a name nor a ``generateName``, or the name is invalid.
    """
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.BadRequest("metadata must be an object")
    obj["apiVersion"] = resource.api_version
    obj["kind"] = resource.kind
    if resource.namespaced:
        body_namespace = meta.get("namespace")
        if body_namespace and body_namespace != namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
    name = meta.get("name")
    if not name:
        prefix = meta.get("generateName")
        if not prefix:
            raise errors.Invalid(
                resource.kind, resource.group, "",
                [("metadata.name", "Required value: name or generateName is required")],
            )
        prefix = prefix[: 63 - 5]
        name = prefix + names.suffix()
        while name in taken:
            name = prefix + names.suffix()
        meta["name"] = name
    problem = dns_subdomain_problem(name)
    if problem:
        raise errors.Invalid(
            resource.kind, resource.group, name, [("metadata.name", f'Invalid value: "{name}": '
                                                   f"{problem}")]
        )
    meta["uid"] = names.uid()
    meta["creationTimestamp"] = timefmt.now_seconds()
    meta["generation"] = 1
    for server_owned in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
        meta.pop(server_owned, None)
    return obj


def owner_reference(owner: Obj, *, controller: bool = True) -> Obj:
    """An ``ownerReferences`` entry pointing at ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def owner_uids(obj: Obj) -> set[str]:
    """The uids of every owner named in ``obj``'s ownerReferences."""
    return {ref.get("uid", "") for ref in obj.get("metadata", {}).get("ownerReferences") or []}


def is_deleting(obj: Obj) -> bool:
    """Whether ``obj`` carries a deletionTimestamp."""
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))
