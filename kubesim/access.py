"""Who may do what: a small rule set standing in for RBAC.

Rules are checked in order; the first whose verb, resource and namespace match decides; with no
match the request is allowed. The same rules answer ``SelfSubjectAccessReview`` and guard the
real requests (403 ``Forbidden`` worded like the API server's), so a supervisor that checks its
permissions up front sees the same answer it would get by trying.
"""

from __future__ import annotations

from typing import Any

import msgspec

SUBJECT = "system:serviceaccount:default:kubesim"


class AccessRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One rule: ``"*"`` matches anything; ``resource`` may include a subresource (pods/log)."""

    allowed: bool
    verb: str = "*"
    resource: str = "*"
    group: str = "*"
    namespace: str = "*"

    def matches(self, verb: str, resource: str, group: str, namespace: str) -> bool:
        """Whether this rule is about the given request."""
        return (
            self.verb in ("*", verb)
            and self.resource in ("*", resource)
            and self.group in ("*", group)
            and self.namespace in ("*", namespace)
        )


class AccessPolicy:
    """An ordered rule list."""

    def __init__(self, rules: list[AccessRule] | None = None) -> None:
        self.rules = list(rules or [])

    def __repr__(self) -> str:
        return f"<AccessPolicy {len(self.rules)} rules>"

    def allows(self, verb: str, resource: str, group: str, namespace: str) -> bool:
        """Whether the request is allowed."""
        for rule in self.rules:
            if rule.matches(verb, resource, group, namespace):
                return rule.allowed
        return True

    def denial(self, verb: str, resource: str, group: str, namespace: str, name: str) -> str:
        """The API server's Forbidden message for a denied request."""
        qualified = f"{resource}.{group}" if group else resource
        subject = f'{qualified} "{name}"' if name else qualified
        where = f' in the namespace "{namespace}"' if namespace else ""
        base, _, sub = resource.partition("/")
        what = f'resource "{base}"' + (f' with subresource "{sub}"' if sub else "")
        return (
            f'{subject} is forbidden: User "{SUBJECT}" cannot {verb} {what} in API group '
            f'"{group}"{where}'
        )

    def review(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a SelfSubjectAccessReview."""
        spec = body.get("spec") or {}
        attributes = spec.get("resourceAttributes")
        allowed = True
        if isinstance(attributes, dict):
            resource = attributes.get("resource", "")
            if attributes.get("subresource"):
                resource = f"{resource}/{attributes['subresource']}"
            allowed = self.allows(
                attributes.get("verb", ""), resource, attributes.get("group", ""),
                attributes.get("namespace", ""),
            )
        status: dict[str, Any] = {"allowed": allowed}
        if not allowed:
            status["denied"] = True
            status["reason"] = "denied by kubesim access rules"
        return {**body, "status": status}
