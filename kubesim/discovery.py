"""What clients read before they act: ``/version``, legacy discovery and an OpenAPI v3 stub.

kubectl 1.37 asks for aggregated discovery first and accepts legacy ``APIVersions`` /
``APIGroupList`` / ``APIResourceList`` answered as plain ``application/json``, which is what
this serves. ``kubectl create/apply`` with default validation needs ``/openapi/v3``: a root
that lists the group-versions, and per group-version a document with a PATCH operation that
carries ``x-kubernetes-group-version-kind`` and the ``fieldValidation`` parameter, which tells
kubectl the server validates fields itself (it then sends ``fieldValidation=Strict``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from kubesim import resources

VERSION = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.0-kubesim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for resource in resources.ALL:
        if resource.group:
            versions = groups.setdefault(resource.group, [])
            if resource.version not in versions:
                versions.append(resource.version)
    return groups


def api_group_list() -> dict[str, Any]:
    """``GET /apis``."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{group}/{versions[0]}",
                                     "version": versions[0]},
            }
            for group, versions in _groups().items()
        ],
    }


def api_group(group: str) -> dict[str, Any] | None:
    """``GET /apis/{group}``."""
    versions = _groups().get(group)
    if versions is None:
        return None
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def resource_list(group_version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/{group}/{version}``."""
    members = resources.GROUP_VERSIONS.get(group_version)
    if members is None:
        return None
    listed: list[dict[str, Any]] = []
    for resource in members:
        entry: dict[str, Any] = {
            "name": resource.name,
            "singularName": resource.kind.lower(),
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(resource.verbs),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        listed.append(entry)
        for sub in resource.subresources:
            listed.append({
                "name": f"{resource.name}/{sub}",
                "singularName": "",
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": ["get"] if sub == "log" else ["get", "patch", "update"],
            })
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": listed,
    }


def _path_key(group_version: str) -> str:
    return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"


def _hash(group_version: str) -> str:
    return hashlib.sha256(group_version.encode()).hexdigest()[:32].upper()


def openapi_root() -> dict[str, Any]:
    """``GET /openapi/v3``: one entry per group-version."""
    return {
        "paths": {
            _path_key(gv): {"serverRelativeURL": f"/openapi/v3/{_path_key(gv)}?hash={_hash(gv)}"}
            for gv in resources.GROUP_VERSIONS
        }
    }


def openapi_group(path_key: str) -> dict[str, Any] | None:
    """``GET /openapi/v3/{api/v1 | apis/group/version}``: a minimal valid document."""
    group_version = path_key.removeprefix("apis/").removeprefix("api/")
    members = resources.GROUP_VERSIONS.get(group_version)
    if members is None or _path_key(group_version) != path_key:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for resource in members:
        group = resource.group
        schema_name = f"io.k8s.kubesim.{group or 'core'}.{resource.version}.{resource.kind}"
        gvk = {"group": group, "version": resource.version, "kind": resource.kind}
        schemas[schema_name] = {
            "type": "object",
            "x-kubernetes-group-version-kind": [gvk],
            "additionalProperties": True,
        }
        scope = "namespaces/{namespace}/" if resource.namespaced else ""
        paths[f"/{path_key}/{scope}{resource.name}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{resource.kind}",
                "x-kubernetes-group-version-kind": gvk,
                "x-kubernetes-action": "patch",
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}},
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (kubesim)", "version": VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }
