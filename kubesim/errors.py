"""API errors, answered as ``kind: Status`` bodies exactly as an API server shapes them.

Clients branch on ``code`` and ``reason`` (the Python client raises ``ApiException(status=…)``,
kubectl prints ``message``), so every failure the simulator reports is one of these::

    ApiError                 any non-2xx answer; carries code, reason, message, details
    ├── NotFound             404 NotFound      "jobs.batch \"x\" not found"
    ├── AlreadyExists        409 AlreadyExists "jobs.batch \"x\" already exists"
    ├── Conflict             409 Conflict      stale resourceVersion on update
    ├── Invalid              422 Invalid       a field is missing or malformed
    ├── BadRequest           400 BadRequest    a malformed request (query, body, container)
    ├── Forbidden            403 Forbidden     denied by the configured access rules
    ├── Expired              410 Expired       resourceVersion too old for a watch / continue
    └── MethodNotAllowed     405 MethodNotAllowed
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Kubernetes API failure with the fields of a ``metav1.Status``."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        """The ``kind: Status`` body for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


class NotFound(ApiError):
    """404: the named object does not exist."""

    def __init__(self, resource: str, group: str, name: str) -> None:
        super().__init__(
            404,
            "NotFound",
            f'{_qualified(resource, group)} "{name}" not found',
            details=_details(name, group, resource),
        )


class AlreadyExists(ApiError):
    """409: create of a name that is taken."""

    def __init__(self, resource: str, group: str, name: str) -> None:
        super().__init__(
            409,
            "AlreadyExists",
            f'{_qualified(resource, group)} "{name}" already exists',
            details=_details(name, group, resource),
        )


class Conflict(ApiError):
    """409: an update carried a resourceVersion that is no longer current."""

    def __init__(self, resource: str, group: str, name: str) -> None:
        super().__init__(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": '
            "the object has been modified; please apply your changes to the latest version "
            "and try again",
            details=_details(name, group, resource),
        )


class Invalid(ApiError):
    """422: the object fails validation; ``causes`` name each bad field."""

    def __init__(self, kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> None:
        text = "; ".join(f"{field}: {message}" for field, message in causes)
        details = _details(name, group, kind)
        details["causes"] = [
            {"reason": "FieldValueInvalid", "message": message, "field": field}
            for field, message in causes
        ]
        subject = f"{kind}.{group}" if group else kind
        super().__init__(422, "Invalid", f'{subject} "{name}" is invalid: {text}', details=details)


class BadRequest(ApiError):
    """400: the request itself is malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "BadRequest", message)


class Forbidden(ApiError):
    """403: the configured access rules deny this verb on this resource."""

    def __init__(self, message: str) -> None:
        super().__init__(403, "Forbidden", message)


class Expired(ApiError):
    """410: the requested resourceVersion is older than the kept history."""

    def __init__(self, message: str) -> None:
        super().__init__(410, "Expired", message)


class MethodNotAllowed(ApiError):
    """405: the path exists but does not take this method."""

    def __init__(self, method: str) -> None:
        super().__init__(
            405, "MethodNotAllowed", f"the server does not allow this method on the requested "
            f"resource ({method})"
        )
