"""Daemon configuration (TOML) and per-agent run settings, decoded into frozen typed structs.

Why this module exists: every knob of the supervisor has one home here, with its default as a
named constant, and every bad value is rejected up front with a message that names the field,
the value and what was expected — instead of surfacing later as an invalid Job manifest.

The file is TOML. Top-level keys are the daemon's own settings, in snake_case because they double
as command-line flags (``db_path`` ⇄ ``--db-path``). The ``[agent]`` table holds per-agent run
defaults in camelCase: the same names Paperclip's adapter config and the run request's ``config``
object use, so one decoder (`AgentSettings`) serves the file and the wire::

    namespace = "paperclip"
    log_source = "file"
    shared_volume_host_dir = "/mnt/paperclip"

    [agent]
    image = "ghcr.io/paperclipai/paperclip:1.2"
    timeoutSec = 3600
    resources = { limits = { memory = "12Gi" } }
    nodeSelector = "pool=agents"

Per-agent fields are all optional. A missing or ``null`` field, and a blank string for a plain
string field, mean "not set": the next layer decides (run overrides → ``[agent]`` defaults → the
constants below, or what the supervisor's own pod provides). ``nodeSelector`` and ``tolerations``
are the exception, as in the seed adapter: a field that is present — even ``""``, ``{}`` or
``[]`` — replaces what would be inherited from the supervisor's pod. Unknown keys are rejected.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec

from supervisor import labels

# ---------------------------------------------------------------------------------------------
# Daemon-level defaults.
DEFAULT_DB_PATH = "/var/lib/paperclip-supervisor/events.db"
DEFAULT_SOCKET_PATH = "/run/paperclip-supervisor/api.sock"
DEFAULT_SOCKET_MODE = 0o660
DEFAULT_LOG_SOURCE = "api"
LOG_SOURCES = ("api", "file")
DEFAULT_LOG_FORMAT = "json"
LOG_FORMATS = ("json", "console")
DEFAULT_RUN_LOG_DIR = "instances/default/data/run-logs"
"""Where pods tee their output, relative to the shared volume's root (Paperclip's run-logs dir)."""
DEFAULT_BUNDLE_DIR = ".paperclip-supervisor/prompt-bundles"
"""Where prompt bundles live, relative to the shared volume's root."""
DEFAULT_KEEPALIVE_INTERVAL_SEC = 15.0
DEFAULT_POD_SCHEDULE_TIMEOUT_SEC = 120.0
DEFAULT_MAX_PROMPT_BYTES = 900 * 1024
"""Largest prompt accepted: a prompt above 256 KiB travels in a Secret, and Secrets max at 1 MiB."""
DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024
"""Largest request body: JSON escaping can make a body several times its prompt's size."""
DEFAULT_DELETE_STRAY_JOBS = False

# Per-agent defaults (the seed adapter's, reference section 8).
DEFAULT_IMAGE_PULL_POLICY = "IfNotPresent"
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
DEFAULT_REQUESTS_CPU = "1000m"
DEFAULT_REQUESTS_MEMORY = "2Gi"
DEFAULT_LIMITS_CPU = "4000m"
DEFAULT_LIMITS_MEMORY = "8Gi"
DEFAULT_TTL_SECONDS_AFTER_FINISHED = 300
DEFAULT_RETAIN_JOBS = False
DEFAULT_REATTACH_ORPHANED_JOBS = True
DEFAULT_TIMEOUT_SEC = 0
"""0 = no deadline."""
DEFAULT_GRACE_SEC = 60
DEFAULT_MAX_TURNS_PER_RUN = 0
"""0 = no ``--max-turns`` flag (the seed's UI said 1000 while its code said 0; the code won)."""
DEFAULT_DANGEROUSLY_SKIP_PERMISSIONS = True
DEFAULT_WORKSPACE_MOUNT_PATH = "/paperclip"
DEFAULT_ENABLE_DOCKER = False
DEFAULT_DOCKER_IMAGE = "docker:28-dind"
DEFAULT_DOCKER_CPU_LIMIT = "2"
DEFAULT_DOCKER_MEMORY_LIMIT = "2Gi"
DOCKER_REQUEST_CPU = "100m"
DOCKER_REQUEST_MEMORY = "256Mi"
"""The sidecar's fixed requests; its configured limits may not be lower."""

_NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
_PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
_PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
_Quantity = str | int | float


class ConfigError(ValueError):
    """A configuration value is invalid.

    Attributes:
        field: where the bad value sits, as a dotted path (``agent.resources.limits.cpu``).
        message: the full explanation; it names the field, the value and what was expected.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------
# Input structs: what a TOML file or a run request may say.


class QuantitySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A cpu/memory pair inside ``resources.requests`` or ``resources.limits``."""

    cpu: _Quantity | None = None
    memory: _Quantity | None = None


class ResourcesSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The nested ``resources = {requests = {...}, limits = {...}}`` form."""

    requests: QuantitySettings | None = None
    limits: QuantitySettings | None = None


class AgentSettings(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Per-agent run settings as given: every field optional (``None`` = not set).

    Used for the ``[agent]`` table of the daemon config and for a run request's ``config``
    overrides. `resolve_agent_config` merges layers of these into one `AgentConfig`.
    Map-like fields (``nodeSelector``, ``labels``, ``env``, ``mcpServers``) are typed loosely
    here and checked by this module, so an error can name the exact key that is wrong.
    """

    namespace: str | None = None
    image: str | None = None
    image_pull_policy: str | None = None
    service_account_name: str | None = None
    resources: ResourcesSettings | None = None
    # The seed adapter's UI wrote flat dotted keys; both forms are accepted.
    resources_requests_cpu: _Quantity | None = msgspec.field(
        default=None, name="resources.requests.cpu"
    )
    resources_requests_memory: _Quantity | None = msgspec.field(
        default=None, name="resources.requests.memory"
    )
    resources_limits_cpu: _Quantity | None = msgspec.field(
        default=None, name="resources.limits.cpu"
    )
    resources_limits_memory: _Quantity | None = msgspec.field(
        default=None, name="resources.limits.memory"
    )
    node_selector: str | dict[str, Any] | None = None
    labels: str | dict[str, Any] | None = None
    tolerations: str | list[Any] | None = None
    ttl_seconds_after_finished: _NonNegativeInt | None = None
    retain_jobs: bool | None = None
    reattach_orphaned_jobs: bool | None = None
    timeout_sec: _NonNegativeInt | None = None
    grace_sec: _NonNegativeInt | None = None
    max_turns_per_run: _NonNegativeInt | None = None
    model: str | None = None
    effort: str | None = None
    extra_args: list[str] | None = None
    env: dict[str, Any] | None = None
    dangerously_skip_permissions: bool | None = None
    mcp_servers: str | dict[str, Any] | None = None
    mcp_base_config: str | dict[str, Any] | None = None
    """The shared ``.mcp.json`` contents (object or JSON text); its servers are the baseline."""
    workspace_volume_claim: str | None = None
    workspace_mount_path: str | None = None
    cwd: str | None = None
    enable_docker: bool | None = None
    docker_image: str | None = None
    docker_cpu_limit: _Quantity | None = None
    docker_memory_limit: _Quantity | None = None
    ccrotate_accounts: list[str] | None = None
    """Accounts passed to the optional ``ccrotate`` preflight in the pod (``--accounts a,b``)."""


class DaemonConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The daemon's settings: cluster-wide values plus the ``[agent]`` run defaults."""

    db_path: str = DEFAULT_DB_PATH
    socket_path: str = DEFAULT_SOCKET_PATH
    socket_mode: Annotated[int, msgspec.Meta(ge=0, le=0o777)] = DEFAULT_SOCKET_MODE
    """Permissions of the socket file; write it as a TOML octal integer (``0o660``)."""
    allowed_uids: tuple[_NonNegativeInt, ...] = ()
    """Peer uids allowed on the socket besides the daemon's own (checked with SO_PEERCRED)."""
    allowed_gids: tuple[_NonNegativeInt, ...] = ()
    namespace: str | None = None
    """Namespace for Jobs; unset = the supervisor pod's namespace, else ``default``."""
    kubeconfig: str | None = None
    """Path of a kubeconfig file; unset = in-cluster service-account credentials."""
    log_source: str = DEFAULT_LOG_SOURCE
    """``api`` follows pod logs through the API; ``file`` tails the tee file on the shared volume."""
    shared_volume_host_dir: str | None = None
    """Where the daemon sees the workspace volume's root (needed for ``file`` logs and bundles)."""
    run_log_dir: str = DEFAULT_RUN_LOG_DIR
    bundle_dir: str = DEFAULT_BUNDLE_DIR
    keepalive_interval_sec: _PositiveFloat = DEFAULT_KEEPALIVE_INTERVAL_SEC
    pod_schedule_timeout_sec: _PositiveFloat = DEFAULT_POD_SCHEDULE_TIMEOUT_SEC
    max_request_bytes: _PositiveInt = DEFAULT_MAX_REQUEST_BYTES
    max_prompt_bytes: _PositiveInt = DEFAULT_MAX_PROMPT_BYTES
    log_format: str = DEFAULT_LOG_FORMAT
    delete_stray_jobs: bool = DEFAULT_DELETE_STRAY_JOBS
    """Delete Jobs labelled as ours that no run in the event log accounts for."""
    agent: AgentSettings = msgspec.field(default_factory=AgentSettings)


# ---------------------------------------------------------------------------------------------
# Resolved structs: what the manifest builder consumes.


class ResourceRequirements(msgspec.Struct, frozen=True, kw_only=True):
    """Requests and limits of the ``claude`` container, as Kubernetes quantity strings."""

    requests_cpu: str = DEFAULT_REQUESTS_CPU
    requests_memory: str = DEFAULT_REQUESTS_MEMORY
    limits_cpu: str = DEFAULT_LIMITS_CPU
    limits_memory: str = DEFAULT_LIMITS_MEMORY

    def to_manifest(self) -> dict[str, dict[str, str]]:
        """The container ``resources`` object."""
        return {
            "requests": {"cpu": self.requests_cpu, "memory": self.requests_memory},
            "limits": {"cpu": self.limits_cpu, "memory": self.limits_memory},
        }


class DockerSidecar(msgspec.Struct, frozen=True, kw_only=True):
    """The opt-in docker-in-docker sidecar."""

    image: str = DEFAULT_DOCKER_IMAGE
    cpu_limit: str = DEFAULT_DOCKER_CPU_LIMIT
    memory_limit: str = DEFAULT_DOCKER_MEMORY_LIMIT


class AgentConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Fully resolved per-run settings; treat the dict fields as read-only.

    ``None`` in ``namespace``/``image``/``workspace_volume_claim``/``cwd`` means "take it from the
    supervisor's pod or the daemon"; ``None`` in ``node_selector``/``tolerations`` means "inherit",
    while an empty value means "explicitly none".
    """

    namespace: str | None = None
    image: str | None = None
    image_pull_policy: str = DEFAULT_IMAGE_PULL_POLICY
    service_account_name: str | None = None
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)
    node_selector: dict[str, str] | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] | None = None
    ttl_seconds_after_finished: int = DEFAULT_TTL_SECONDS_AFTER_FINISHED
    retain_jobs: bool = DEFAULT_RETAIN_JOBS
    reattach_orphaned_jobs: bool = DEFAULT_REATTACH_ORPHANED_JOBS
    timeout_sec: int = DEFAULT_TIMEOUT_SEC
    grace_sec: int = DEFAULT_GRACE_SEC
    max_turns_per_run: int = DEFAULT_MAX_TURNS_PER_RUN
    model: str | None = None
    effort: str | None = None
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = msgspec.field(default_factory=dict)
    dangerously_skip_permissions: bool = DEFAULT_DANGEROUSLY_SKIP_PERMISSIONS
    mcp_servers: dict[str, Any] = msgspec.field(default_factory=dict)
    mcp_base_servers: dict[str, Any] = msgspec.field(default_factory=dict)
    workspace_volume_claim: str | None = None
    workspace_mount_path: str = DEFAULT_WORKSPACE_MOUNT_PATH
    cwd: str | None = None
    docker: DockerSidecar | None = None
    ccrotate_accounts: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Loading the daemon config.


def load_config(path: str | Path) -> DaemonConfig:
    """Read and check a daemon config file.

    Raises:
        ConfigError: the file is unreadable, not TOML, or holds an invalid value.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError("", f"cannot read config file {str(path)!r}: {exc.strerror}") from exc
    return parse_config(data, source=str(path))


def parse_config(text: str | bytes, *, source: str = "<config>") -> DaemonConfig:
    """Decode and check daemon config TOML; the per-agent defaults are resolved once to check them.

    Raises:
        ConfigError: naming the field, the value and what is expected.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError("", f"{source}: not UTF-8 text ({exc.reason})") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{source}: invalid TOML: {exc}") from exc
    try:
        config = msgspec.convert(raw, DaemonConfig)
    except msgspec.ValidationError as exc:
        field, message = describe_validation_error(exc, raw)
        raise ConfigError(field, f"{source}: {message}") from exc
    try:
        _check_daemon(config)
        resolve_agent_config(config)
    except ConfigError as exc:
        raise ConfigError(exc.field, f"{source}: {exc.message}") from exc
    return config


def _check_daemon(config: DaemonConfig) -> None:
    for name in ("db_path", "socket_path"):
        if not getattr(config, name).strip():
            _fail(name, getattr(config, name), "a non-blank path")
    if config.namespace is not None and not labels.is_dns_label(config.namespace):
        _fail("namespace", config.namespace, "a namespace name (DNS-1123 label)")
    if config.kubeconfig is not None and not config.kubeconfig.strip():
        _fail("kubeconfig", config.kubeconfig, "a kubeconfig path, or no key for in-cluster")
    _check_choice("log_source", config.log_source, LOG_SOURCES)
    _check_choice("log_format", config.log_format, LOG_FORMATS)
    if config.shared_volume_host_dir is not None and not posixpath.isabs(
        config.shared_volume_host_dir
    ):
        _fail("shared_volume_host_dir", config.shared_volume_host_dir, "an absolute path")
    if config.log_source == "file" and config.shared_volume_host_dir is None:
        _fail(
            "shared_volume_host_dir",
            None,
            "the host directory of the shared volume, because log_source is 'file'",
        )
    for name in ("run_log_dir", "bundle_dir"):
        _relative_dir(name, getattr(config, name))
    if config.max_prompt_bytes > config.max_request_bytes:
        _fail(
            "max_prompt_bytes",
            config.max_prompt_bytes,
            f"at most max_request_bytes ({config.max_request_bytes})",
        )


def _relative_dir(field: str, value: str) -> str:
    parts = value.split("/")
    if not value or value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        _fail(field, value, "a relative path inside the shared volume, without '.' or '..' parts")
    return value


# ---------------------------------------------------------------------------------------------
# Resolving per-agent settings.

_ENCODE_NAMES = {f.name: f.encode_name for f in msgspec.structs.fields(AgentSettings)}


def check_agent_settings(settings: AgentSettings, *, prefix: str = "") -> None:
    """Check every field ``settings`` sets, on its own (no merging, no cross-field checks).

    Raises:
        ConfigError: with ``field`` prefixed by ``prefix`` (e.g. ``"config"``).
    """
    _resolve([(f"{prefix}." if prefix else "", settings)], check_cross_fields=False)


def resolve_agent_config(
    daemon_cfg: DaemonConfig, overrides: AgentSettings | None = None
) -> AgentConfig:
    """Merge a run's overrides over the daemon's ``[agent]`` defaults over the built-in defaults.

    Merging is per field (per quantity for resources); a set override replaces the default
    whole — maps are not merged key by key, as in the seed adapter.

    Raises:
        ConfigError: naming ``agent.<field>`` or ``config.<field>``, whichever layer set it.
    """
    layers = [("agent.", daemon_cfg.agent)]
    if overrides is not None:
        layers.append(("config.", overrides))
    return _resolve(layers, check_cross_fields=True)


def _resolve(layers: list[tuple[str, AgentSettings]], *, check_cross_fields: bool) -> AgentConfig:
    def pick(attr: str, *, blank_is_unset: bool = True) -> tuple[Any, str]:
        for prefix, settings in reversed(layers):
            value = getattr(settings, attr)
            if value is None or (blank_is_unset and isinstance(value, str) and not value.strip()):
                continue
            return value, prefix + _ENCODE_NAMES[attr]
        return None, ""

    def scalar(attr: str, check: Callable[[str, Any], Any], default: Any) -> Any:
        value, field = pick(attr)
        return default if value is None else check(field, value)

    def plain(attr: str, default: Any) -> Any:
        value, _ = pick(attr)
        return default if value is None else value

    node_selector, ns_field = pick("node_selector", blank_is_unset=False)
    tolerations, tol_field = pick("tolerations", blank_is_unset=False)
    mount_path = scalar("workspace_mount_path", _mount_path, DEFAULT_WORKSPACE_MOUNT_PATH)
    enable_docker = plain("enable_docker", DEFAULT_ENABLE_DOCKER)
    docker = DockerSidecar(
        image=scalar("docker_image", _image, DEFAULT_DOCKER_IMAGE),
        cpu_limit=scalar("docker_cpu_limit", _docker_cpu, DEFAULT_DOCKER_CPU_LIMIT),
        memory_limit=scalar("docker_memory_limit", _docker_memory, DEFAULT_DOCKER_MEMORY_LIMIT),
    )
    return AgentConfig(
        namespace=scalar("namespace", _namespace, None),
        image=scalar("image", _image, None),
        image_pull_policy=scalar("image_pull_policy", _pull_policy, DEFAULT_IMAGE_PULL_POLICY),
        service_account_name=scalar("service_account_name", _dns_subdomain, None),
        resources=_resources(layers, check_cross_fields=check_cross_fields),
        node_selector=None if node_selector is None else _label_map(ns_field, node_selector),
        labels=scalar("labels", _label_map, {}),
        tolerations=None if tolerations is None else _tolerations(tol_field, tolerations),
        ttl_seconds_after_finished=plain(
            "ttl_seconds_after_finished", DEFAULT_TTL_SECONDS_AFTER_FINISHED
        ),
        retain_jobs=plain("retain_jobs", DEFAULT_RETAIN_JOBS),
        reattach_orphaned_jobs=plain("reattach_orphaned_jobs", DEFAULT_REATTACH_ORPHANED_JOBS),
        timeout_sec=plain("timeout_sec", DEFAULT_TIMEOUT_SEC),
        grace_sec=plain("grace_sec", DEFAULT_GRACE_SEC),
        max_turns_per_run=plain("max_turns_per_run", DEFAULT_MAX_TURNS_PER_RUN),
        model=scalar("model", _word, None),
        effort=scalar("effort", _word, None),
        extra_args=scalar("extra_args", _args, ()),
        env=scalar("env", _env_map, {}),
        dangerously_skip_permissions=plain(
            "dangerously_skip_permissions", DEFAULT_DANGEROUSLY_SKIP_PERMISSIONS
        ),
        mcp_servers=scalar("mcp_servers", _mcp_servers, {}),
        mcp_base_servers=scalar("mcp_base_config", _mcp_base_servers, {}),
        workspace_volume_claim=scalar("workspace_volume_claim", _dns_subdomain, None),
        workspace_mount_path=mount_path,
        cwd=scalar("cwd", _absolute_path, None),
        docker=docker if enable_docker else None,
        ccrotate_accounts=scalar("ccrotate_accounts", _accounts, ()),
    )


_QUANTITY_SLOTS = {
    # attr of the resolved struct: (nested section, nested key, flat AgentSettings attr, default)
    "requests_cpu": ("requests", "cpu", "resources_requests_cpu", DEFAULT_REQUESTS_CPU),
    "requests_memory": ("requests", "memory", "resources_requests_memory", DEFAULT_REQUESTS_MEMORY),
    "limits_cpu": ("limits", "cpu", "resources_limits_cpu", DEFAULT_LIMITS_CPU),
    "limits_memory": ("limits", "memory", "resources_limits_memory", DEFAULT_LIMITS_MEMORY),
}


_BUILT_IN = "built-in default"


def _resources(
    layers: list[tuple[str, AgentSettings]], *, check_cross_fields: bool
) -> ResourceRequirements:
    chosen: dict[str, tuple[str, str]] = {}  # slot -> (quantity, field it came from)
    for slot, (section, key, flat_attr, default) in _QUANTITY_SLOTS.items():
        chosen[slot] = (default, f"{_BUILT_IN} resources.{section}.{key}")
        for prefix, settings in layers:
            nested_group = getattr(settings.resources, section, None)
            nested = getattr(nested_group, key, None)
            flat = getattr(settings, flat_attr)
            nested_field = f"{prefix}resources.{section}.{key}"
            flat_field = f"{prefix}{_ENCODE_NAMES[flat_attr]}"
            values = [
                (_quantity(f, v), f)
                for v, f in ((nested, nested_field), (flat, flat_field))
                if v is not None and not (isinstance(v, str) and not v.strip())
            ]
            if len(values) == 2 and quantity_value(values[0][0]) != quantity_value(values[1][0]):
                raise ConfigError(
                    flat_field,
                    f"{flat_field}: {values[1][0]!r} contradicts {nested_field} {values[0][0]!r};"
                    " give the quantity once, in either form",
                )
            if values:
                chosen[slot] = values[0]
    if check_cross_fields:
        for kind in ("cpu", "memory"):
            request, request_field = chosen[f"requests_{kind}"]
            limit, limit_field = chosen[f"limits_{kind}"]
            if quantity_value(request) > quantity_value(limit):
                # Blame the value someone set, not a built-in default.
                blamed = limit_field if request_field.startswith(_BUILT_IN) else request_field
                raise ConfigError(
                    blamed,
                    f"{blamed}: {kind} request {request!r} ({request_field}) exceeds its limit"
                    f" {limit!r} ({limit_field}); expected a request no larger than its limit",
                )
    return ResourceRequirements(**{slot: value for slot, (value, _) in chosen.items()})


# ---------------------------------------------------------------------------------------------
# Field checks: each takes (field path, value) and returns the normalised value or raises.


def _fail(field: str, value: Any, expected: str, *, secret: bool = False) -> NoReturn:
    shown = _redacted(value) if secret else show_value(value)
    raise ConfigError(field, f"{field}: expected {expected}, got {shown}")


def show_value(value: Any, limit: int = 80) -> str:
    """A short, single-line rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _redacted(value: Any) -> str:
    if isinstance(value, str):
        return f"a string of {len(value)} characters (value not shown)"
    return f"a value of type {type(value).__name__}"


def _check_choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        hint = difflib.get_close_matches(value, choices, n=1)
        suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
        _fail(field, value, "one of " + ", ".join(repr(c) for c in choices) + suffix)
    return value


def _pull_policy(field: str, value: str) -> str:
    return _check_choice(field, value.strip(), IMAGE_PULL_POLICIES)


def _namespace(field: str, value: str) -> str:
    value = value.strip()
    if not labels.is_dns_label(value):
        _fail(field, value, "a namespace name (lowercase DNS-1123 label, at most 63 characters)")
    return value


def _dns_subdomain(field: str, value: str) -> str:
    value = value.strip()
    if not labels.is_dns_subdomain(value):
        _fail(field, value, "a Kubernetes object name (lowercase DNS-1123 subdomain)")
    return value


def _image(field: str, value: str) -> str:
    value = value.strip()
    if any(ch.isspace() for ch in value) or "\x00" in value:
        _fail(field, value, "a container image reference without whitespace")
    return value


def _word(field: str, value: str) -> str:
    value = value.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        _fail(field, value, "a single word without whitespace or control characters")
    return value


def _absolute_path(field: str, value: str) -> str:
    value = value.strip()
    normal = posixpath.normpath(value)
    if not value.startswith("/") or "\x00" in value or ".." in value.split("/"):
        _fail(field, value, "an absolute path without '..' parts")
    return normal


def _mount_path(field: str, value: str) -> str:
    path = _absolute_path(field, value)
    if path == "/":
        _fail(field, value, "a directory below '/' to mount the workspace volume on")
    return path


def _args(field: str, value: list[str]) -> tuple[str, ...]:
    for index, arg in enumerate(value):
        if "\x00" in arg:
            _fail(f"{field}[{index}]", arg, "an argument without NUL characters")
    return tuple(value)


def _accounts(field: str, value: list[str]) -> tuple[str, ...]:
    for index, account in enumerate(value):
        if not account.strip() or "," in account or any(ch.isspace() for ch in account):
            _fail(f"{field}[{index}]", account, "an account name without commas or whitespace")
    return tuple(value)


_QUANTITY = re.compile(
    r"^\+?(?P<number>\d+(?:\.\d*)?|\.\d+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def _quantity(field: str, value: _Quantity) -> str:
    if isinstance(value, bool):
        _fail(field, value, "a Kubernetes quantity such as '500m', '2' or '4Gi'")
    text = str(value).strip()
    if not _QUANTITY.match(text):
        _fail(field, value, "a Kubernetes quantity such as '500m', '2' or '4Gi'")
    return text


def _docker_cpu(field: str, value: _Quantity) -> str:
    return _at_least(field, _quantity(field, value), DOCKER_REQUEST_CPU)


def _docker_memory(field: str, value: _Quantity) -> str:
    return _at_least(field, _quantity(field, value), DOCKER_REQUEST_MEMORY)


def _at_least(field: str, quantity: str, minimum: str) -> str:
    if quantity_value(quantity) < quantity_value(minimum):
        _fail(field, quantity, f"a quantity of at least {minimum!r} (the sidecar's request)")
    return quantity


def quantity_value(text: str) -> Decimal:
    """The numeric value of a Kubernetes quantity (``"1500m"`` → 1.5, ``"1Ki"`` → 1024).

    Raises:
        ValueError: ``text`` is not a quantity.
    """
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    if suffix in _BINARY:
        return number * Decimal(1024) ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def parse_key_value_map(field: str, value: str | Mapping[str, Any]) -> dict[str, str]:
    """Parse a ``key=value``-lines text, a JSON object text, or a mapping into a string map.

    Text form: a JSON object is tried first; otherwise one ``key=value`` per line, split at the
    first ``=``, both sides trimmed; blank lines and ``#`` comments are skipped.

    Raises:
        ConfigError: for a non-string value, or a line that is not ``key=value``.
    """
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            value = decoded
        else:
            result: dict[str, str] = {}
            for number, line in enumerate(value.splitlines(), start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                key, eq, item = line.partition("=")
                if not eq or not key.strip():
                    _fail(f"{field} line {number}", line, "a 'key=value' line")
                result[key.strip()] = item.strip()
            return result
    result = {}
    for key, item in value.items():
        if not isinstance(item, str):
            _fail(f"{field}.{key}", item, "a string value")
        result[key] = item
    return result


def _label_map(field: str, value: str | Mapping[str, Any]) -> dict[str, str]:
    result = parse_key_value_map(field, value)
    for key, item in result.items():
        if not labels.is_valid_label_key(key):
            _fail(f"{field}.{key}", key, "a label key: [DNS-subdomain prefix/]name of <= 63 chars")
        if not labels.is_valid_label_value(item):
            _fail(
                f"{field}.{key}",
                item,
                "a label value: <= 63 chars of [A-Za-z0-9._-], alphanumeric at both ends",
            )
    return result


def _env_map(field: str, value: Mapping[str, Any]) -> dict[str, str]:
    return check_env_map(field, value)


def check_env_map(field: str, value: Mapping[str, Any]) -> dict[str, str]:
    """Check an env name → plain value map; values are never echoed in errors.

    Raises:
        ConfigError: for a bad name, a non-string value or a value with a NUL character.
    """
    for name, item in value.items():
        if not labels.is_valid_env_name(name):
            _fail(f"{field}.{name}", name, "an env var name (printable ASCII, no '=' or spaces)")
        if not isinstance(item, str) or "\x00" in item:
            _fail(f"{field}.{name}", item, "a string without NUL characters", secret=True)
    return dict(value)


class Toleration(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", omit_defaults=True
):
    """One pod toleration; decoded strictly so a typo is an error, not a silent no-op."""

    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


_TOLERATION_OPERATORS = ("Exists", "Equal")
_TOLERATION_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _tolerations(field: str, value: str | list[Any]) -> tuple[dict[str, Any], ...]:
    # The seed adapter dropped a textarea's JSON text silently (appendix B.8); parse it.
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json.loads(value)
        except ValueError:
            _fail(field, value, "a JSON array of tolerations")
        if not isinstance(value, list):
            _fail(field, value, "a JSON array of tolerations")
    result = []
    for index, item in enumerate(value):
        item_field = f"{field}[{index}]"
        try:
            toleration = msgspec.convert(item, Toleration)
        except msgspec.ValidationError as exc:
            sub, message = describe_validation_error(exc, item, prefix=item_field)
            raise ConfigError(sub, message) from exc
        if toleration.operator is not None:
            _check_choice(f"{item_field}.operator", toleration.operator, _TOLERATION_OPERATORS)
        if toleration.effect is not None:
            _check_choice(f"{item_field}.effect", toleration.effect, _TOLERATION_EFFECTS)
        if toleration.operator == "Exists" and toleration.value:
            _fail(f"{item_field}.value", toleration.value, "no value when operator is 'Exists'")
        if toleration.key and not labels.is_valid_label_key(toleration.key):
            _fail(f"{item_field}.key", toleration.key, "a label key")
        result.append(msgspec.to_builtins(toleration))
    return tuple(result)


def _json_object(field: str, value: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            _fail(field, value, "a JSON object")
        if not isinstance(value, dict):
            _fail(field, value, "a JSON object")
    return dict(value)


def _mcp_servers(field: str, value: str | Mapping[str, Any]) -> dict[str, Any]:
    servers = _json_object(field, value)
    for name, server in servers.items():
        if not isinstance(server, dict):
            _fail(f"{field}.{name}", server, "an MCP server definition object")
    return servers


def _mcp_base_servers(field: str, value: str | Mapping[str, Any]) -> dict[str, Any]:
    base = _json_object(field, value)
    servers = base.get("mcpServers", {})
    if not isinstance(servers, dict):
        _fail(f"{field}.mcpServers", servers, "an object of MCP server definitions")
    return _mcp_servers(f"{field}.mcpServers", servers)


# ---------------------------------------------------------------------------------------------
# msgspec errors → field paths and readable messages.

_MSGSPEC_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_GOT_TYPE = re.compile(r", got `[^`]*`$")
_FIELD_IN_MESSAGE = re.compile(r"^Object (?:contains unknown|missing required) field `(.*)`$")


def describe_validation_error(
    error: msgspec.ValidationError,
    raw: Any,
    *,
    prefix: str = "",
    is_secret: Callable[[str], bool] = lambda field: False,
) -> tuple[str, str]:
    """Turn a msgspec error into ``(field path, message naming field, value and expectation)``.

    ``raw`` is the undecoded data, used to show the offending value; ``prefix`` is prepended to
    the path. Values whose path ``is_secret`` are described, never shown.
    """
    match = _MSGSPEC_ERROR.match(str(error))
    assert match is not None
    message, dollar_path = match["message"], match["path"] or "$"
    path = dollar_path[1:].lstrip(".")
    named = _FIELD_IN_MESSAGE.match(message)
    if named:
        path = f"{path}.{named[1]}" if path else named[1]
    field = join_field(prefix, path) or "(body)"
    if message.startswith("Object contains unknown field"):
        return field, f"{field}: unknown field (unknown fields are rejected; check the spelling)"
    if message.startswith("Object missing required field"):
        return field, f"{field}: required field is missing"
    found, value = _lookup(raw, path)
    expected = message[0].lower() + message[1:]
    if not found:
        return field, f"{field}: {expected}"
    # msgspec names the type it got; the value itself says more.
    expected = _GOT_TYPE.sub("", expected)
    shown = _redacted(value) if is_secret(field) else show_value(value)
    return field, f"{field}: {expected}, got {shown}"


def join_field(prefix: str, path: str) -> str:
    """Join two parts of a field path: ``join_field("config", "env.X")`` → ``config.env.X``."""
    if not prefix or not path:
        return prefix or path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _lookup(raw: Any, path: str) -> tuple[bool, Any]:
    """Find the value at a msgspec error path; dotted keys are matched greedily."""
    current = raw
    rest = path
    while rest:
        if rest.startswith("["):
            end = rest.index("]")
            token, rest = rest[1:end], rest[end + 1 :]
            if token == "..." or not isinstance(current, list) or int(token) >= len(current):
                return False, None
            current = current[int(token)]
            continue
        rest = rest.lstrip(".")
        if not isinstance(current, dict):
            return False, None
        segment = rest.split("[", 1)[0]
        for candidate in _dotted_prefixes(segment):
            if candidate in current:
                current, rest = current[candidate], rest[len(candidate) :]
                break
        else:
            return False, None
    return True, current


def _dotted_prefixes(segment: str) -> list[str]:
    parts = segment.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
