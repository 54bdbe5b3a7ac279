"""The ASGI application: route a request, apply faults and access rules, record it, answer.

Routing follows the REST layout of the API server::

    /api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
    /apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]

plus discovery (``/version``, ``/api``, ``/apis``, the group-version lists, ``/openapi/v3``)
and the admin endpoints under ``/_kubesim``. Every API answer is JSON; errors are ``Status``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from kubesim import admin, discovery, errors, faults, resources
from kubesim.asgi import (
    AnyResponse,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_response,
    json_response,
    read_request,
    send_response,
)
from kubesim.recorder import RecordedRequest
from kubesim.resources import ResourceType

if TYPE_CHECKING:
    from kubesim.sim import KubeSim

_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Route:
    """Where a resource request points."""

    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None

    def verb(self, request: Request) -> str:
        """The Kubernetes verb (``list``/``watch`` for collections)."""
        if self.name is None:
            if request.method == "GET":
                return "watch" if request.flag("watch") else "list"
            if request.method == "DELETE":
                return "deletecollection"
        return _VERBS.get(request.method, request.method.lower())

    def request_class(self, request: Request) -> str:
        """``"<verb> <resource>[/<subresource>]"``, the recorder's class."""
        what = self.resource.name + (f"/{self.subresource}" if self.subresource else "")
        return f"{self.verb(request)} {what}"


def parse_route(path: str) -> Route | None:
    """Map a resource path to a route (None: not a resource path).

    Raises:
        errors.NotFound: the path names an unknown resource.
    """
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = resources.by_path(group, version, rest[0])
    if resource is None:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
    if namespace is not None and not resource.namespaced:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if len(rest) > 3 or (subresource and subresource not in resource.subresources):
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
    return Route(resource, namespace, name, subresource)


class Application:
    """The ASGI app of one simulator."""

    def __init__(self, sim: KubeSim) -> None:
        self._sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"kubesim serves HTTP only, not {scope['type']}")
        request = await read_request(scope, receive)
        if request.path.startswith("/_kubesim"):
            try:
                response = admin.handle(self._sim, request)
            except errors.ApiError as exc:
                response = error_response(exc)
            await send_response(response, send, receive)
            return
        request_class = "get discovery"
        try:
            route = parse_route(request.path)
            if route is not None:
                request_class = route.request_class(request)
            response = await self._answer(request, route)
        except errors.ApiError as exc:
            response = error_response(exc)
        self._sim.recorder.record(RecordedRequest(
            request.method, request.path, request.query_string, request_class, response.status,
            time.time(),
        ))
        await send_response(response, send, receive)

    async def _answer(self, request: Request, route: Route | None) -> AnyResponse:
        plan = self._sim.fault_registry.plan_request(
            request.method, request.path, request.query_string
        )
        if plan.delay:
            await trio.sleep(plan.delay)
        if plan.error is not None:
            raise _injected(plan.error)
        if route is None:
            return self._discovery(request)
        self._authorize(request, route)
        return await self._resource(request, route)

    def _authorize(self, request: Request, route: Route) -> None:
        what = route.resource.name + (f"/{route.subresource}" if route.subresource else "")
        verb = route.verb(request)
        namespace = route.namespace or ""
        policy = self._sim.access
        if not policy.allows(verb, what, route.resource.group, namespace):
            raise errors.Forbidden(
                policy.denial(verb, what, route.resource.group, namespace, route.name or "")
            )

    def _discovery(self, request: Request) -> AnyResponse:
        if request.method != "GET":
            raise errors.MethodNotAllowed(request.method)
        path = request.path.rstrip("/") or "/"
        parts = [part for part in path.split("/") if part]
        document = None
        if path == "/version":
            document = discovery.VERSION
        elif path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain")
        elif path == "/api":
            document = discovery.api_versions(self._sim.address)
        elif path == "/apis":
            document = discovery.api_group_list()
        elif path == "/api/v1":
            document = discovery.resource_list("v1")
        elif len(parts) == 2 and parts[0] == "apis":
            document = discovery.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            document = discovery.resource_list(f"{parts[1]}/{parts[2]}")
        elif path == "/openapi/v3":
            document = discovery.openapi_root()
        elif path.startswith("/openapi/v3/"):
            document = discovery.openapi_group(path.removeprefix("/openapi/v3/"))
        if document is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return json_response(document)

    async def _resource(self, request: Request, route: Route) -> AnyResponse:
        sim = self._sim
        resource, namespace, name = route.resource, route.namespace, route.name
        method = request.method
        if resource is resources.SELF_SUBJECT_ACCESS_REVIEWS:
            if method != "POST" or name is not None:
                raise errors.MethodNotAllowed(method)
            body = request.json()
            if not isinstance(body, dict):
                raise errors.BadRequest("a SelfSubjectAccessReview must be a JSON object")
            return json_response(sim.access.review(body), 201)
        if resource is resources.NAMESPACES:
            return sim.namespaces.answer(method, name)
        if route.subresource == "log":
            if method != "GET":
                raise errors.MethodNotAllowed(method)
            assert namespace is not None and name is not None
            return await sim.log_api.get(namespace, name, request)
        objects = sim.object_api
        if name is None:
            if method == "GET":
                return objects.list_or_watch(resource, namespace, request)
            if method == "POST":
                if namespace is None:
                    raise errors.MethodNotAllowed(method)
                return objects.create(resource, namespace, request)
            if method == "DELETE":
                return objects.delete_collection(resource, namespace, request)
            raise errors.MethodNotAllowed(method)
        if namespace is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            return objects.get(resource, namespace, name, request)
        if method == "PUT":
            return objects.update(resource, namespace, name, request,
                                  subresource=route.subresource)
        if method == "PATCH":
            return objects.patch(resource, namespace, name, request,
                                 subresource=route.subresource)
        if method == "DELETE":
            return objects.delete(resource, namespace, name, request)
        raise errors.MethodNotAllowed(method)


def _injected(fault: faults.HttpError) -> errors.ApiError:
    reasons = {404: "NotFound", 409: "Conflict", 410: "Expired", 429: "TooManyRequests",
               500: "InternalError", 503: "ServiceUnavailable"}
    messages = {
        404: "the server could not find the requested resource",
        409: "Operation cannot be fulfilled: the object has been modified",
        410: "too old resource version",
        429: "Too many requests, please try again later.",
        500: "Internal error occurred: injected by kubesim",
        503: "the server is currently unable to handle the request",
    }
    headers = {}
    details = None
    if fault.status == 429:
        headers["Retry-After"] = str(fault.retry_after)
        details = {"retryAfterSeconds": fault.retry_after}
    return errors.ApiError(
        fault.status, reasons[fault.status], fault.message or messages[fault.status],
        details=details, headers=headers,
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
