"""Does our service account have the permissions the lifecycle needs? (SelfSubjectAccessReview)"""

from __future__ import annotations

from supervisor.k8s import api, errors

# (verb, group, resource, subresource) the supervisor uses, in its Jobs' namespace.
REQUIRED: tuple[tuple[str, str, str, str], ...] = (
    ("create", "batch", "jobs", ""), ("get", "batch", "jobs", ""), ("list", "batch", "jobs", ""),
    ("watch", "batch", "jobs", ""), ("delete", "batch", "jobs", ""), ("patch", "batch", "jobs", ""),
    ("get", "", "pods", ""), ("list", "", "pods", ""), ("watch", "", "pods", ""),
    ("delete", "", "pods", ""), ("get", "", "pods", "log"),
    ("create", "", "secrets", ""), ("delete", "", "secrets", ""), ("patch", "", "secrets", ""),
)


async def denied(kube: api.KubeAPI, namespace: str) -> list[str]:
    """The required permissions the API server says we lack, as ``verb resource[/sub]``.

    Raises:
        errors.APIError: the reviews themselves could not be made.
    """
    missing = []
    for verb, group, resource, sub in REQUIRED:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": {
                      "namespace": namespace, "verb": verb, "group": group,
                      "resource": resource, "subresource": sub}}}
        answer = await kube.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                 body=review)
        if not (answer.get("status") or {}).get("allowed"):
            missing.append(f"{verb} {resource}{'/' + sub if sub else ''}")
    return missing


__all__ = ["REQUIRED", "denied", "errors"]
