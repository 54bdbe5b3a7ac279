"""Errors from the Kubernetes API, chosen by status and built from its ``Status`` body.

    APIError                 any failed call; .status, .reason, .message, .retry_after
    ├── NotFound             404
    ├── Conflict             409
    │   └── AlreadyExists    409 reason AlreadyExists (a create found our object there)
    ├── Gone                 410 (a watch's resourceVersion is too old: relist)
    ├── Forbidden            401 / 403
    ├── Invalid              400 / 422 (our request is wrong; never retried)
    └── TransientAPIError    worth retrying where the call is safe to repeat
        ├── ServerError      5xx
        ├── TooManyRequests  429 (honours Retry-After)
        └── Unreachable      connect errors, timeouts, broken streams (wraps httpx errors)

httpx errors are wrapped here, at the one boundary where they occur.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec


class APIError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        reason: str = "",
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.body = body or {}


class NotFound(APIError):
    pass


class Conflict(APIError):
    pass


class AlreadyExists(Conflict):
    pass


class Gone(APIError):
    pass


class Forbidden(APIError):
    pass


class Invalid(APIError):
    pass


class TransientAPIError(APIError):
    pass


class ServerError(TransientAPIError):
    pass


class TooManyRequests(TransientAPIError):
    pass


class Unreachable(TransientAPIError):
    pass


def from_response(response: httpx.Response, body: bytes) -> APIError:
    """The most specific error for a non-2xx response."""
    status = response.status_code
    parsed: dict[str, Any] = {}
    try:
        decoded = msgspec.json.decode(body) if body else {}
        if isinstance(decoded, dict):
            parsed = decoded
    except msgspec.DecodeError:
        pass
    reason = str(parsed.get("reason", ""))
    detail = str(
        parsed.get("message") or body[:200].decode("utf-8", "replace") or response.reason_phrase
    )
    message = f"{response.request.method} {response.request.url.path}: {status} {reason or response.reason_phrase}: {detail}"
    retry_after = _retry_after(response.headers.get("retry-after"))
    cls: type[APIError]
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = AlreadyExists if reason == "AlreadyExists" else Conflict
    elif status == 410:
        cls = Gone
    elif status in (401, 403):
        cls = Forbidden
    elif status == 429:
        cls = TooManyRequests
    elif status >= 500:
        cls = ServerError
    elif status in (400, 422):
        cls = Invalid
    else:
        cls = APIError
    return cls(message, status=status, reason=reason, retry_after=retry_after, body=parsed)


def unreachable(method: str, path: str, exc: Exception) -> Unreachable:
    return Unreachable(f"{method} {path}: {type(exc).__name__}: {exc}")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
