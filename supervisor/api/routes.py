"""One table of method + path → handler: the whole ``/v1`` surface at a glance.

Path templates use ``{name}`` for one path segment; the matched segments reach the handler as
``request.params``. An unknown path is a 404, a known path with another method a 405 with Allow.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from supervisor.api import asgi, commands, errors, queries, streams
from supervisor.api.context import ApiContext

Handler = Callable[[ApiContext, asgi.Request], Awaitable[asgi.Response | asgi.StreamResponse]]

ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/runs", commands.create_run),
    ("GET", "/v1/runs", queries.list_runs),
    ("GET", "/v1/runs/{run_id}", queries.get_run),
    ("GET", "/v1/runs/{run_id}/events", streams.run_events),
    ("GET", "/v1/runs/{run_id}/result", queries.get_result),
    ("POST", "/v1/runs/{run_id}/cancel", commands.cancel_run),
    ("GET", "/v1/events", streams.all_events),
    ("POST", "/v1/prune", commands.prune),
    ("GET", "/v1/healthz", queries.health),
    ("GET", "/v1/metrics", queries.get_metrics),
    ("GET", "/v1/version", queries.version),
]


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


_COMPILED = [(method, _compile(template), handler) for method, template, handler in ROUTES]


def resolve(method: str, path: str) -> tuple[Handler, Mapping[str, str]]:
    """The handler and path parameters for a request.

    Raises:
        ApiError: 404 for an unknown path, 405 (with ``Allow``) for a wrong method.
    """
    allowed: list[str] = []
    for route_method, pattern, handler in _COMPILED:
        match = pattern.match(path)
        if match is None:
            continue
        if route_method == method:
            return handler, match.groupdict()
        allowed.append(route_method)
    if allowed:
        raise errors.ApiError(405, errors.METHOD_NOT_ALLOWED,
                              f"{method} is not allowed on {path} (allowed: {', '.join(allowed)})",
                              headers={"allow": ", ".join(allowed)})
    raise errors.ApiError(404, errors.NOT_FOUND, f"no such endpoint: {path}")
