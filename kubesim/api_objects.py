"""The REST verbs on stored objects: create, get, list/watch, update, patch, delete.

Handlers stay thin: decoding and query parsing here, semantics in ``admission``,
``deletion``, ``store`` and ``watch``. Answers are shaped like an API server's: the created
object with 201, ``kind: <Kind>List`` with ``metadata.resourceVersion`` for lists (or a Table
when kubectl asks for one), ``Status`` Success or the still-present object for deletes.
"""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass
from typing import Any

import msgspec

from kubesim import admission, errors, meta, patch, resources, selectors, tables, watch
from kubesim.asgi import AnyResponse, Request, StreamResponse, json_response
from kubesim.deletion import Deleter
from kubesim.resources import ResourceType
from kubesim.store import Obj, Store, clone

try:  # Optional: only needed when a client asks for server-side field validation.
    import kubernetes_validate as _kubernetes_validate
except ImportError:  # pragma: no cover - the test extra installs it
    _kubernetes_validate = None

_IMMUTABLE_META = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                   "deletionGracePeriodSeconds")
_JOB_IMMUTABLE_SPEC = ("selector", "template", "completions", "completionMode")


@dataclass
class WatchSettings:
    """Server-side watch behaviour."""

    bookmark_interval: float = 10.0
    min_timeout_seconds: float = 1800.0


class ObjectApi:
    """CRUD on the stored resources."""

    def __init__(
        self, store: Store, deleter: Deleter, names: meta.Names, rng: random.Random,
        watch_settings: WatchSettings,
    ) -> None:
        self._store = store
        self._deleter = deleter
        self._names = names
        self._rng = rng
        self._watch = watch_settings

    # -- create --------------------------------------------------------------------------------

    def create(self, resource: ResourceType, namespace: str, request: Request) -> AnyResponse:
        """POST to a collection."""
        body = request.json()
        if not isinstance(body, dict):
            raise errors.BadRequest(f"a {resource.kind} must be a JSON object")
        self._check_kind(resource, body)
        warnings = self._validate_fields(resource, body, request.param("fieldValidation"))
        taken = {key[2] for key in self._store.names(resource, namespace)}
        obj = meta.prepare_new(resource, clone(body), namespace=namespace, names=self._names,
                               taken=taken)
        obj = admission.admit(resource, obj)
        if request.param("dryRun") == "All":
            return json_response(obj, 201, warnings)
        created = self._store.create(resource, obj)
        return json_response(created, 201, warnings)

    @staticmethod
    def _check_kind(resource: ResourceType, body: Obj) -> None:
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != resource.kind:
            raise errors.BadRequest(
                f"the kind in the body ({kind}) does not match the resource ({resource.kind})"
            )
        if api_version and api_version != resource.api_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({resource.api_version})"
            )

    @staticmethod
    def _validate_fields(resource: ResourceType, body: Obj, mode: str | None) -> dict[str, str]:
        if mode not in ("Strict", "Warn") or _kubernetes_validate is None:
            return {}
        candidate = {"apiVersion": resource.api_version, "kind": resource.kind, **body}
        try:
            _kubernetes_validate.validate(candidate, "1.37.0", strict=True)
        except _kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path) or "<root>"
            problem = f"{exc.message} (at {where})"
            if mode == "Strict":
                raise errors.BadRequest(
                    f'{resource.kind} in version "{resource.version}" cannot be handled as a '
                    f"{resource.kind}: strict decoding error: {problem}"
                ) from exc
            return {"Warning": f'299 - "{problem}"'}
        return {}

    # -- read ----------------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str,
            request: Request) -> AnyResponse:
        """GET one object (or a one-row Table)."""
        obj = self._store.require(resource, namespace, name)
        if tables.wants_table(request.headers.get("accept", "")):
            return json_response(tables.table(
                resource, [obj], resource_version=obj["metadata"]["resourceVersion"],
                include_object=request.param("includeObject"),
            ))
        return json_response(obj)

    def list_or_watch(self, resource: ResourceType, namespace: str | None,
                      request: Request) -> AnyResponse:
        """GET a collection, or watch it with ``watch=1``."""
        label_match = selectors.label_matcher(request.param("labelSelector"))
        field_match = selectors.field_matcher(request.param("fieldSelector"))
        if request.flag("watch"):
            return self._watch_response(resource, namespace, request, label_match, field_match)
        items = self._store.select(
            resource, namespace, lambda obj: label_match(obj) and field_match(obj)
        )
        list_rv = str(self._store.resource_version)
        items, token, remaining = self._page(items, request)
        if tables.wants_table(request.headers.get("accept", "")):
            return json_response(tables.table(
                resource, items, resource_version=list_rv,
                include_object=request.param("includeObject"), continue_token=token,
            ))
        metadata: Obj = {"resourceVersion": list_rv}
        if token:
            metadata["continue"] = token
            metadata["remainingItemCount"] = remaining
        return json_response({
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": metadata,
            "items": items,
        })

    def _page(self, items: list[Obj], request: Request) -> tuple[list[Obj], str | None, int]:
        limit = request.int_param("limit", minimum=0)
        start = 0
        token = request.param("continue")
        if token:
            try:
                state = msgspec.json.decode(base64.urlsafe_b64decode(token.encode()))
                start_after, token_rv = str(state["start"]), int(state["rv"])
            except (binascii.Error, msgspec.DecodeError, KeyError, TypeError, ValueError):
                raise errors.BadRequest("continue key is not valid") from None
            if token_rv < self._store.oldest_resumable():
                raise errors.Expired(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter."
                )
            keys = [self._sort_key(obj) for obj in items]
            start = next((i for i, key in enumerate(keys) if key > start_after), len(items))
        if not limit or start + limit >= len(items):
            return items[start:], None, 0
        page = items[start : start + limit]
        state = {"start": self._sort_key(page[-1]), "rv": self._store.resource_version}
        next_token = base64.urlsafe_b64encode(msgspec.json.encode(state)).decode()
        return page, next_token, len(items) - start - limit

    @staticmethod
    def _sort_key(obj: Obj) -> str:
        return f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"

    def _watch_response(
        self, resource: ResourceType, namespace: str | None, request: Request,
        label_match: selectors.Matcher, field_match: selectors.Matcher,
    ) -> StreamResponse:
        timeout = request.int_param("timeoutSeconds", minimum=0)
        if timeout is None:
            floor = self._watch.min_timeout_seconds
            timeout = int(self._rng.uniform(floor, 2 * floor))
        watch_request = watch.WatchRequest(
            resource=resource,
            namespace=namespace,
            label_match=label_match,
            field_match=field_match,
            resource_version=request.param("resourceVersion"),
            bookmarks=request.flag("allowWatchBookmarks"),
            send_initial_events=request.flag("sendInitialEvents"),
            timeout_seconds=float(timeout),
            filtered=bool(request.param("labelSelector") or request.param("fieldSelector")),
        )
        return StreamResponse(
            200,
            watch.stream(self._store, watch_request,
                         bookmark_interval=self._watch.bookmark_interval),
            "application/json",
        )

    # -- write ---------------------------------------------------------------------------------

    def update(self, resource: ResourceType, namespace: str, name: str, request: Request,
               *, subresource: str | None = None) -> AnyResponse:
        """PUT one object (or its status)."""
        body = request.json()
        if not isinstance(body, dict):
            raise errors.BadRequest(f"a {resource.kind} must be a JSON object")
        self._check_kind(resource, body)
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise errors.BadRequest("the name of the object does not match the name on the URL")
        current = self._store.require(resource, namespace, name)
        sent_rv = (body.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(resource.name, resource.group, name)
        return self._commit_update(resource, current, clone(body), subresource)

    def patch(self, resource: ResourceType, namespace: str, name: str, request: Request,
              *, subresource: str | None = None) -> AnyResponse:
        """PATCH one object (or its status)."""
        current = self._store.require(resource, namespace, name)
        body = request.json()
        kind = request.content_type
        if kind == patch.JSON_PATCH:
            patched = patch.apply_json_patch(clone(current), body)
        elif kind in (patch.MERGE_PATCH, patch.STRATEGIC_MERGE_PATCH):
            patched = patch.apply_merge_patch(clone(current), body)
        else:
            raise errors.ApiError(
                415, "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {patch.JSON_PATCH}, {patch.MERGE_PATCH}, {patch.STRATEGIC_MERGE_PATCH}",
            )
        if not isinstance(patched, dict):
            raise errors.BadRequest("the patch does not leave an object")
        sent_rv = (patched.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(resource.name, resource.group, name)
        return self._commit_update(resource, current, patched, subresource)

    def _commit_update(self, resource: ResourceType, current: Obj, new: Obj,
                       subresource: str | None) -> AnyResponse:
        name = current["metadata"]["name"]
        if subresource == "status":
            result = clone(current)
            result["status"] = new.get("status") or {}
            new = result
        elif "status" in current:
            new["status"] = current["status"]
        new_meta = new.setdefault("metadata", {})
        for field in _IMMUTABLE_META:
            if field in current["metadata"]:
                new_meta[field] = current["metadata"][field]
            else:
                new_meta.pop(field, None)
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        self._check_immutable(resource, current, new)
        if resource is resources.SECRETS:
            new = admission.admit_secret(new)
        if new != current:
            new_meta["generation"] = current["metadata"].get("generation", 1) + (
                1 if new.get("spec") != current.get("spec") else 0
            )
        stored = self._store.replace(resource, new, check_version=False)
        # An update that empties the finalizers of a deleting object completes its delete.
        self._deleter.finish_if_unblocked(resource, stored["metadata"].get("namespace", ""), name)
        return json_response(stored)

    @staticmethod
    def _check_immutable(resource: ResourceType, current: Obj, new: Obj) -> None:
        name = current["metadata"]["name"]
        if resource is resources.JOBS:
            causes = [
                (f"spec.{field}", "Invalid value: field is immutable")
                for field in _JOB_IMMUTABLE_SPEC
                if current["spec"].get(field) != (new.get("spec") or {}).get(field)
            ]
            if causes:
                raise errors.Invalid("Job", "batch", name, causes)
        if resource is resources.PODS and current.get("spec") != new.get("spec"):
            raise errors.Invalid("Pod", "", name, [(
                "spec", "Forbidden: pod updates may not change fields other than "
                "`spec.containers[*].image`, `spec.activeDeadlineSeconds` and "
                "`spec.tolerations` (kubesim allows none)",
            )])

    def delete(self, resource: ResourceType, namespace: str, name: str,
               request: Request) -> AnyResponse:
        """DELETE one object."""
        options = self._delete_options(request)
        outcome = self._deleter.delete(
            resource, namespace, name,
            propagation=options.get("propagationPolicy"),
            grace_seconds=options.get("gracePeriodSeconds"),
            expected_uid=(options.get("preconditions") or {}).get("uid"),
        )
        if resource is resources.PODS or not outcome.gone:
            return json_response(outcome.obj, 200 if outcome.gone else 202)
        return json_response(self._success(resource, outcome.obj))

    def delete_collection(self, resource: ResourceType, namespace: str | None,
                          request: Request) -> AnyResponse:
        """DELETE a collection (with selectors)."""
        options = self._delete_options(request)
        label_match = selectors.label_matcher(request.param("labelSelector"))
        field_match = selectors.field_matcher(request.param("fieldSelector"))
        for obj in self._store.list(resource, namespace):
            if label_match(obj) and field_match(obj):
                try:
                    self._deleter.delete(
                        resource, obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                        propagation=options.get("propagationPolicy"),
                        grace_seconds=options.get("gracePeriodSeconds"),
                    )
                except errors.NotFound:
                    pass
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Success"})

    @staticmethod
    def _delete_options(request: Request) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.body.strip():
            body = request.json()
            if not isinstance(body, dict):
                raise errors.BadRequest("DeleteOptions must be a JSON object")
            options.update(body)
            if options.get("orphanDependents") is True and "propagationPolicy" not in options:
                options["propagationPolicy"] = "Orphan"
        if request.param("propagationPolicy"):
            options["propagationPolicy"] = request.param("propagationPolicy")
        grace = request.int_param("gracePeriodSeconds")
        if grace is not None:
            options["gracePeriodSeconds"] = grace
        grace_value = options.get("gracePeriodSeconds")
        if grace_value is not None and (not isinstance(grace_value, int)
                                        or isinstance(grace_value, bool)):
            raise errors.BadRequest("gracePeriodSeconds must be an integer")
        return options

    @staticmethod
    def _success(resource: ResourceType, obj: Obj) -> Obj:
        details: Obj = {"name": obj["metadata"]["name"], "kind": resource.name,
                        "uid": obj["metadata"]["uid"]}
        if resource.group:
            details["group"] = resource.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": details}
