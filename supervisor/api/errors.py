"""API errors: one exception type carrying the HTTP status and the stable error code.

Every error response has the body ``{"error": {"code", "message", "field"?}}``. Codes are stable
strings clients may branch on; messages are for people and name what is wrong.

    ApiError                 raised by a handler; app.py turns it into the response
"""

from __future__ import annotations

INVALID_REQUEST = "invalid_request"
"""Malformed JSON, a wrong type, an unknown field or an invalid value (400)."""
BODY_TOO_LARGE = "body_too_large"
"""The request body is larger than ``max_request_bytes`` (413)."""
NOT_FOUND = "not_found"
"""No such path (404)."""
RUN_NOT_FOUND = "run_not_found"
"""No run with this id in the log (404)."""
METHOD_NOT_ALLOWED = "method_not_allowed"
"""The path exists but not with this method (405)."""
RUN_CONFLICT = "run_conflict"
"""The runId exists with a different request body (409)."""
RUN_NOT_TERMINAL = "run_not_terminal"
"""The result was asked for before the run ended (409)."""
UNAVAILABLE = "unavailable"
"""The daemon is stopping and accepts nothing new (503)."""
INTERNAL_ERROR = "internal_error"
"""A bug; the daemon's log has the details (500)."""
PEER_NOT_ALLOWED = "peer_not_allowed"
"""The connecting process's uid/gid is not on the allowed list (403)."""


class ApiError(Exception):
    """An error answer: HTTP ``status`` with ``{"error": {code, message, field?}}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r}, field={self.field!r})"
