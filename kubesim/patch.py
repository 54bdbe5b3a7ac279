"""PATCH bodies: JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386).

A strategic merge patch is applied as a merge patch: for the fields the supervisor and kubectl
patch (labels, annotations, ownerReferences via JSON Patch) the result is the same; lists are
replaced rather than merged by key, which is documented in the README.
"""

from __future__ import annotations

from typing import Any

from kubesim import errors

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.BadRequest(f"invalid JSON pointer {path!r}: must start with '/'")
    return [_unescape(token) for token in path[1:].split("/")]


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise errors.ApiError(
                422, "Invalid", f"the server rejected our request due to an error in our "
                f"request: jsonpatch: path {path!r} does not exist"
            )
    return current


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise errors.ApiError(422, "Invalid", f"jsonpatch: path {path!r} does not exist")


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise errors.ApiError(
        422, "Invalid", f"jsonpatch remove operation does not apply: doc is missing path: {path}"
    )


def _add(doc: Any, path: str, value: Any, *, replace: bool) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise errors.ApiError(
                422, "Invalid",
                f"jsonpatch replace operation does not apply: doc is missing key: {path}",
            )
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise errors.ApiError(422, "Invalid", f"jsonpatch: index out of range in {path!r}")
    else:
        raise errors.ApiError(422, "Invalid", f"jsonpatch: cannot address {path!r}")
    return doc


def apply_json_patch(doc: Any, operations: Any) -> Any:
    """Apply an RFC 6902 operation list to ``doc`` (mutated) and return the result.

    Raises:
        errors.BadRequest: the body is not a list of operations.
        errors.ApiError: 422 when an operation does not apply (missing path, failed test).
    """
    if not isinstance(operations, list):
        raise errors.BadRequest("a JSON Patch body must be a list of operations")
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise errors.BadRequest(f"invalid JSON Patch operation: {operation!r}")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise errors.BadRequest(f"JSON Patch {op} operation at {path!r} has no value")
        if op == "add":
            doc = _add(doc, path, operation["value"], replace=False)
        elif op == "replace":
            doc = _add(doc, path, operation["value"], replace=True)
        elif op == "remove":
            _remove(doc, path)
        elif op == "test":
            if _get(doc, path) != operation["value"]:
                raise errors.ApiError(422, "Invalid", f"jsonpatch: test failed at {path!r}")
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise errors.BadRequest(f"JSON Patch {op} operation needs 'from'")
            value = _remove(doc, source) if op == "move" else _get(doc, source)
            doc = _add(doc, path, value, replace=False)
        else:
            raise errors.BadRequest(f"unknown JSON Patch operation {op!r}")
    return doc


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch to ``doc`` (mutated) and return the result."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(doc, dict):
        doc = {}
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = apply_merge_patch(doc.get(key), value)
    return doc
