"""The resource types the simulator serves, and the discovery facts kubectl reads about them."""

from __future__ import annotations

from dataclasses import dataclass

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives and how discovery describes it."""

    name: str
    kind: str
    group: str
    version: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _ALL_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """``apiVersion`` of objects of this type (``v1`` or ``group/version``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        """``kind`` of the list wrapper."""
        return f"{self.kind}List"


JOBS = ResourceType(
    "jobs", "Job", "batch", "v1", categories=("all",), subresources=("status",)
)
PODS = ResourceType(
    "pods", "Pod", "", "v1", short_names=("po",), categories=("all",),
    subresources=("log", "status"),
)
SECRETS = ResourceType("secrets", "Secret", "", "v1")
CONFIGMAPS = ResourceType("configmaps", "ConfigMap", "", "v1", short_names=("cm",))
EVENTS = ResourceType("events", "Event", "", "v1", short_names=("ev",))
NAMESPACES = ResourceType(
    "namespaces", "Namespace", "", "v1", namespaced=False, short_names=("ns",),
    verbs=("get", "list"),
)
SELF_SUBJECT_ACCESS_REVIEWS = ResourceType(
    "selfsubjectaccessreviews", "SelfSubjectAccessReview", "authorization.k8s.io", "v1",
    namespaced=False, verbs=("create",),
)

STORED: tuple[ResourceType, ...] = (JOBS, PODS, SECRETS, CONFIGMAPS, EVENTS)
ALL: tuple[ResourceType, ...] = (*STORED, NAMESPACES, SELF_SUBJECT_ACCESS_REVIEWS)

GROUP_VERSIONS: dict[str, tuple[ResourceType, ...]] = {}
for _resource in ALL:
    GROUP_VERSIONS.setdefault(_resource.api_version, ())
    GROUP_VERSIONS[_resource.api_version] += (_resource,)


def by_path(group: str, version: str, name: str) -> ResourceType | None:
    """Find a resource type by the segments of its REST path."""
    key = f"{group}/{version}" if group else version
    for resource in GROUP_VERSIONS.get(key, ()):
        if resource.name == name:
            return resource
    return None
