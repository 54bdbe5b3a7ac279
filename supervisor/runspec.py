"""The run request: the body of ``POST /v1/runs``, decoded strictly and checked.

Why this module exists: the socket API hands a request to the engine only once it is known to
be buildable — every id sanitises to a label, every override is a valid setting, the prompt fits
— so a bad request is answered at once with a clear error instead of failing half-way through
creating Kubernetes objects.

Wire shape (JSON, camelCase)::

    {
      "runId": "…",                                  required, non-blank
      "agent": {"id": "…", "name": "…", "companyId": "…"},   id required
      "taskKey": "…", "sessionId": "…",              sessionId = resume that Claude session
      "prompt": "…",                                 required, already rendered by the caller
      "claude": {"model", "effort", "maxTurns", "extraArgs", "dangerouslySkipPermissions"},
      "config": {…},                                 per-run overrides of `cfg.AgentSettings`
      "env": {"NAME": "plain value"},
      "secretEnv": {"NAME": {"secret": "secret-name", "key": "key-in-secret"}},
      "instructions": "…",                           the agent's instructions file, as text
      "skills": [{"name": "…", "path": "…"}],
      "timeoutSec": 0, "graceSec": 60
    }

* ``secretEnv`` entries are references only; they become ``valueFrom.secretKeyRef`` in the pod
  and their values never pass through the supervisor.
* ``skills``: ``name`` is the skill's directory name inside the prompt bundle
  (``.claude/skills/<name>``): one path component of ``[A-Za-z0-9._-]``, not starting with ``.``.
  ``path`` is the skill directory **relative to the workspace volume's root** (no leading ``/``,
  no ``.`` or ``..`` parts), so the daemon and the pod resolve it each under their own mount.
* Precedence: ``claude.*``, ``timeoutSec`` and ``graceSec`` beat the same settings in ``config``,
  which beat the daemon's ``[agent]`` defaults.
* The API is strict: an unknown field anywhere is rejected with its name, so a misspelt setting
  can never be silently ignored. ``null`` is accepted for optional fields and means "not given".
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec

from supervisor import config as cfg
from supervisor import labels

INVALID_REQUEST = "invalid_request"
PROMPT_TOO_LARGE = "prompt_too_large"
AGENT_ID_INVALID = "k8s_agent_id_invalid"
RUN_ID_INVALID = "k8s_run_id_invalid"

_NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
_SECRET_PATHS = ("prompt", "instructions", "env.")


class RequestError(ValueError):
    """A run request cannot be accepted.

    Attributes:
        code: stable error code for the API's ``{code, message}`` body.
        message: names the field, the value (unless secret) and what is expected.
        field: JSON path of the offending field, such as ``agent.id`` or ``skills[1].path``.
    """

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class AgentRef(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Who the run is for."""

    id: str
    name: str | None = None
    company_id: str | None = None


class ClaudeOptions(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Per-run Claude CLI options; each one set here beats the agent config."""

    model: str | None = None
    effort: str | None = None
    max_turns: _NonNegativeInt | None = None
    extra_args: list[str] | None = None
    dangerously_skip_permissions: bool | None = None


class SecretKeyRef(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """A reference to one key of a Secret in the Job's namespace."""

    secret: str
    key: str


class SkillRef(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """A skill directory on the shared volume, linked into the prompt bundle under ``name``."""

    name: str
    path: str


class RunRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """A decoded, checked ``POST /v1/runs`` body."""

    run_id: str
    agent: AgentRef
    prompt: str
    task_key: str | None = None
    session_id: str | None = None
    claude: ClaudeOptions = msgspec.field(default_factory=ClaudeOptions)
    config: cfg.AgentSettings | None = None
    env: dict[str, str] = msgspec.field(default_factory=dict)
    secret_env: dict[str, SecretKeyRef] = msgspec.field(default_factory=dict)
    instructions: str | None = None
    skills: list[SkillRef] = msgspec.field(default_factory=list)
    timeout_sec: _NonNegativeInt | None = None
    grace_sec: _NonNegativeInt | None = None

    def fingerprint(self) -> str:
        """Stable sha256 of the canonical body: same request → same value, whatever the JSON
        spelling (key order, whitespace, ``null`` vs absent). The API answers 409 when a runId
        comes back with a different fingerprint."""
        canonical = msgspec.json.encode(self, order="sorted")
        return hashlib.sha256(canonical).hexdigest()

    def agent_overrides(self) -> cfg.AgentSettings:
        """The run's ``config`` overrides with ``claude.*``, ``timeoutSec`` and ``graceSec`` folded
        in, ready for `cfg.resolve_agent_config`."""
        base = self.config or cfg.AgentSettings()
        folded = {
            "model": self.claude.model,
            "effort": self.claude.effort,
            "max_turns_per_run": self.claude.max_turns,
            "extra_args": self.claude.extra_args,
            "dangerously_skip_permissions": self.claude.dangerously_skip_permissions,
            "timeout_sec": self.timeout_sec,
            "grace_sec": self.grace_sec,
        }
        return msgspec.structs.replace(
            base, **{name: value for name, value in folded.items() if value is not None}
        )


def decode_run_request(body: bytes, *, max_prompt_bytes: int) -> RunRequest:
    """Decode and check a run request body.

    Args:
        body: the raw JSON bytes.
        max_prompt_bytes: the largest prompt accepted, counted in UTF-8 bytes.

    Raises:
        RequestError: ``invalid_request`` for a malformed or invalid body, ``prompt_too_large``,
            ``k8s_agent_id_invalid`` / ``k8s_run_id_invalid`` for ids that cannot become labels.
    """
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise RequestError(INVALID_REQUEST, f"body is not valid JSON: {exc}", "(body)") from exc
    if not isinstance(raw, dict):
        raise RequestError(
            INVALID_REQUEST,
            f"body: expected a JSON object, got {type(raw).__name__}",
            "(body)",
        )
    try:
        _precheck_maps(raw)
        request = msgspec.convert(raw, RunRequest)
    except msgspec.ValidationError as exc:
        field, message = cfg.describe_validation_error(exc, raw, is_secret=_is_secret)
        raise RequestError(INVALID_REQUEST, message, field) from exc
    except cfg.ConfigError as exc:
        raise RequestError(INVALID_REQUEST, exc.message, exc.field) from exc
    _check(request, max_prompt_bytes=max_prompt_bytes)
    if request.config == cfg.AgentSettings():
        request = msgspec.structs.replace(request, config=None)
    return request


def _is_secret(field: str) -> bool:
    return field.startswith(_SECRET_PATHS)


def _precheck_maps(raw: dict[str, Any]) -> None:
    # Checked by hand before msgspec so an error names the exact key (msgspec says `env[...]`).
    env = raw.get("env")
    if isinstance(env, dict):
        cfg.check_env_map("env", env)
    secret_env = raw.get("secretEnv")
    if isinstance(secret_env, dict):
        for name, ref in secret_env.items():
            field = f"secretEnv.{name}"
            _require(labels.is_valid_env_name(name), field, name, "an env var name")
            try:
                msgspec.convert(ref, SecretKeyRef)
            except msgspec.ValidationError as exc:
                sub, message = cfg.describe_validation_error(exc, ref, prefix=field)
                raise cfg.ConfigError(sub, message) from exc


def _require(
    ok: bool, field: str, value: Any, expected: str, *, code: str = INVALID_REQUEST
) -> None:
    if not ok:
        raise RequestError(
            code, f"{field}: expected {expected}, got {cfg.show_value(value)}", field
        )


def _label_able(field: str, value: str, what: str, *, code: str = INVALID_REQUEST) -> None:
    if not value.strip() or labels.sanitize_label_value(value) is None:
        raise RequestError(
            code,
            f"{field}: {what} {cfg.show_value(value)} cannot be sanitised to a valid Kubernetes"
            " label value (it needs at least one ASCII letter or digit)",
            field,
        )
    _require(value.isprintable(), field, value, "printable text without control characters")


def _check(request: RunRequest, *, max_prompt_bytes: int) -> None:
    _label_able("runId", request.run_id, "run id", code=RUN_ID_INVALID)
    _label_able("agent.id", request.agent.id, "agent id", code=AGENT_ID_INVALID)
    for field, value, what in (
        ("agent.companyId", request.agent.company_id, "company id"),
        ("taskKey", request.task_key, "task key"),
        ("sessionId", request.session_id, "session id"),
    ):
        if value is not None:
            _label_able(field, value, what)

    prompt_bytes = len(request.prompt.encode("utf-8"))
    if prompt_bytes > max_prompt_bytes:
        raise RequestError(
            PROMPT_TOO_LARGE,
            f"prompt: {prompt_bytes} bytes (UTF-8) exceeds the limit of {max_prompt_bytes} bytes",
            "prompt",
        )
    if not request.prompt.strip() or "\x00" in request.prompt:
        raise RequestError(
            INVALID_REQUEST,
            "prompt: expected non-blank text without NUL characters",
            "prompt",
        )
    if request.instructions is not None and "\x00" in request.instructions:
        raise RequestError(
            INVALID_REQUEST, "instructions: expected text without NUL characters", "instructions"
        )

    for name, ref in request.secret_env.items():
        field = f"secretEnv.{name}"
        _require(
            labels.is_dns_subdomain(ref.secret),
            f"{field}.secret",
            ref.secret,
            "a Secret name (lowercase DNS-1123 subdomain)",
        )
        _require(
            labels.is_valid_secret_key(ref.key),
            f"{field}.key",
            ref.key,
            "a Secret key ([-._a-zA-Z0-9]+)",
        )
        _require(name not in request.env, field, name, "a name not also given in env")

    seen: set[str] = set()
    for index, skill in enumerate(request.skills):
        field = f"skills[{index}]"
        _require(
            _is_component(skill.name),
            f"{field}.name",
            skill.name,
            "one path component of [A-Za-z0-9._-] not starting with '.'",
        )
        _require(skill.name not in seen, f"{field}.name", skill.name, "a name not used twice")
        seen.add(skill.name)
        _require(
            is_safe_relative_path(skill.path),
            f"{field}.path",
            skill.path,
            "a path relative to the workspace volume root, without '.' or '..' parts",
        )

    claude = request.claude
    try:
        if request.config is not None:
            cfg.check_agent_settings(request.config, prefix="config")
        # The Claude options share the agent settings' checks (and their camelCase names).
        cfg.check_agent_settings(
            cfg.AgentSettings(
                model=claude.model, effort=claude.effort, extra_args=claude.extra_args
            ),
            prefix="claude",
        )
    except cfg.ConfigError as exc:
        raise RequestError(INVALID_REQUEST, exc.message, exc.field) from exc


def _is_component(name: str) -> bool:
    return bool(name) and not name.startswith(".") and labels.is_valid_secret_key(name)


def is_safe_relative_path(path: str) -> bool:
    """True for a relative POSIX path with no empty, ``.`` or ``..`` parts and no NUL or ``\\``."""
    if not path or path.startswith("/") or "\x00" in path or "\\" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))
