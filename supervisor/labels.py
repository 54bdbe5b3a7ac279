"""Kubernetes naming rules and the label vocabulary of supervised Jobs.

Why this module exists: every object the supervisor creates is found again later only through
its labels (the concurrency guard, start-up reconciliation, `kubectl get jobs -l ...`). Label
values have a strict grammar (at most 63 characters, alphanumeric at both ends, only
``[A-Za-z0-9._-]`` inside), and Paperclip ids are free text, so every id passes through
`sanitize_label_value` before it becomes a label. The raw ids are kept beside the labels as
annotations, which accept any string.

Label choices:
* ``app.kubernetes.io/managed-by`` is ``paperclip-supervisor`` (the seed adapter used
  ``paperclip``) so the daemon can tell the Jobs it owns from Jobs the seed adapter created; a
  stray-Job policy must never touch the latter.
* ``paperclip.io/adapter-type`` stays ``claude_k8s``: the concurrency guard selects on agent id and
  adapter type, so a live Job left behind by the seed adapter still blocks or is adopted.
"""

from __future__ import annotations

import hashlib
import re

LABEL_VALUE_MAX_LENGTH = 63
"""Kubernetes limit for a label value and for a DNS-1123 label."""

DNS_SUBDOMAIN_MAX_LENGTH = 253
"""Kubernetes limit for a DNS-1123 subdomain (most object names)."""

NAME_SLUG_LENGTH = 16
"""Characters of the agent id and of the run id kept in a Job name."""

NAME_HASH_LENGTH = 6
"""Hex digits of sha256 appended to a Job name so distinct runs never share one."""

JOB_NAME_PREFIX = "ac-"

# Label keys.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_RUN_ID = "paperclip.io/run-id"
LABEL_AGENT_ID = "paperclip.io/agent-id"
LABEL_TASK_ID = "paperclip.io/task-id"
LABEL_SESSION_ID = "paperclip.io/session-id"
LABEL_COMPANY_ID = "paperclip.io/company-id"
LABEL_ADAPTER_TYPE = "paperclip.io/adapter-type"

# Label values.
MANAGED_BY = "paperclip-supervisor"
ADAPTER_TYPE = "claude_k8s"
COMPONENT_JOB = "agent-job"
COMPONENT_PROMPT = "agent-prompt"

# Annotation keys: the raw (unsanitised) values and facts a reattaching daemon needs.
ANNOTATION_ADAPTER_TYPE = "paperclip.io/adapter-type"
ANNOTATION_AGENT_NAME = "paperclip.io/agent-name"
ANNOTATION_RUN_ID = "paperclip.io/run-id"
ANNOTATION_AGENT_ID = "paperclip.io/agent-id"
ANNOTATION_COMPANY_ID = "paperclip.io/company-id"
ANNOTATION_TASK_KEY = "paperclip.io/task-key"
ANNOTATION_SESSION_ID = "paperclip.io/session-id"
ANNOTATION_LOG_PATH = "paperclip.io/log-path"

RESERVED_LABEL_PREFIXES = ("paperclip.io/", "app.kubernetes.io/")
"""User-supplied labels under these prefixes are dropped: they could overwrite system labels."""

_LABEL_VALUE_FORBIDDEN = re.compile(r"[^A-Za-z0-9._-]")
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$"
)
_SLUG_FORBIDDEN = re.compile(r"[^a-z0-9-]")
_ENV_NAME = re.compile(r"^[\x21-\x3c\x3e-\x7e]+$")  # printable ASCII except "=" and space
_SECRET_KEY = re.compile(r"^[-._A-Za-z0-9]+$")


def sanitize_label_value(value: str, max_length: int = LABEL_VALUE_MAX_LENGTH) -> str | None:
    """Turn free text into a valid label value, or None when nothing usable is left.

    Drops every character outside ``[A-Za-z0-9._-]``, cuts to ``max_length``, then strips
    non-alphanumerics from both ends. Applying it twice gives the same result as once, so callers
    may pass raw ids or already-sanitised labels.
    """
    kept = _LABEL_VALUE_FORBIDDEN.sub("", value)[:max_length]
    stripped = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", kept)
    return stripped or None


def is_valid_label_value(value: str) -> bool:
    """True when ``value`` is a valid Kubernetes label value (the empty string is valid)."""
    return len(value) <= LABEL_VALUE_MAX_LENGTH and bool(_LABEL_VALUE.match(value))


def is_valid_label_key(key: str) -> bool:
    """True when ``key`` is a valid label or annotation key: ``[dns-subdomain/]name``."""
    prefix, slash, name = key.rpartition("/")
    if slash and not is_dns_subdomain(prefix):
        return False
    return len(name) <= LABEL_VALUE_MAX_LENGTH and bool(_LABEL_NAME.match(name))


def is_reserved_label_key(key: str) -> bool:
    """True when a user label ``key`` uses a prefix the supervisor keeps for itself."""
    return key.startswith(RESERVED_LABEL_PREFIXES)


def is_dns_label(value: str) -> bool:
    """True for a DNS-1123 label (namespaces, container and volume names)."""
    return len(value) <= LABEL_VALUE_MAX_LENGTH and bool(_DNS_LABEL.match(value))


def is_dns_subdomain(value: str) -> bool:
    """True for a DNS-1123 subdomain (Secret, PVC and service account names)."""
    return len(value) <= DNS_SUBDOMAIN_MAX_LENGTH and bool(_DNS_SUBDOMAIN.match(value))


def is_valid_env_name(name: str) -> bool:
    """True for a container env var name Kubernetes accepts: printable ASCII, no ``=``."""
    return bool(_ENV_NAME.match(name))


def is_valid_secret_key(key: str) -> bool:
    """True for a key inside a Secret's data (``[-._a-zA-Z0-9]+``)."""
    return len(key) <= DNS_SUBDOMAIN_MAX_LENGTH and bool(_SECRET_KEY.match(key))


def name_slug(value: str, max_length: int = NAME_SLUG_LENGTH) -> str:
    """Lowercase ``value``, keep ``[a-z0-9-]``, cut to ``max_length``, drop trailing hyphens."""
    return _SLUG_FORBIDDEN.sub("", value.lower())[:max_length].rstrip("-")


def job_name(agent_id: str, run_id: str) -> str:
    """The deterministic Job name of a run: ``ac-<agent slug>-<run slug>-<6 hex>``.

    The hash covers the raw ids, so two runs whose slugs coincide still get distinct names.
    At most 43 characters, always a valid DNS-1123 label.
    """
    digest = hashlib.sha256(f"{agent_id}:{run_id}".encode()).hexdigest()[:NAME_HASH_LENGTH]
    return f"{JOB_NAME_PREFIX}{name_slug(agent_id)}-{name_slug(run_id)}-{digest}"


def agent_job_selector(agent_id: str) -> str:
    """Label selector for every supervised Job of one agent (the concurrency guard's list).

    Raises:
        ValueError: if ``agent_id`` has nothing left after sanitising.
    """
    label = sanitize_label_value(agent_id)
    if label is None:
        raise ValueError(f"agent id {agent_id!r} cannot be sanitised to a label value")
    return f"{LABEL_AGENT_ID}={label},{LABEL_ADAPTER_TYPE}={ADAPTER_TYPE}"


def managed_jobs_selector() -> str:
    """Label selector for every Job this daemon owns (start-up reconciliation)."""
    return f"{LABEL_MANAGED_BY}={MANAGED_BY},{LABEL_COMPONENT}={COMPONENT_JOB}"
