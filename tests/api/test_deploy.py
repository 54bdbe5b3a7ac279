"""The container image recipe and the Kubernetes sidecar example, checked without an engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from supervisor.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.37.0"


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_slim_non_root_with_volume_and_cli_healthcheck() -> None:
    steps = _instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert froms and all("slim" in image for image in froms)
    user = [args for word, args in steps if word == "USER"]
    assert user and not user[-1].startswith(("0", "root"))
    volumes = [json.loads(args) for word, args in steps if word == "VOLUME"]
    assert ["/var/lib/paperclip-supervisor"] in volumes
    health = next(args for word, args in steps if word == "HEALTHCHECK")
    command = json.loads(health.split("CMD", 1)[1])
    assert command == ["paperclip-supervisor", "health"]
    # The image's default command parses with this version's command line.
    entry = json.loads(next(args for word, args in steps if word == "ENTRYPOINT"))
    cmd = json.loads(next(args for word, args in steps if word == "CMD"))
    assert entry == ["paperclip-supervisor"]
    args = build_parser().parse_args(cmd)
    assert args.command == "serve" and args.db.startswith("/var/lib/paperclip-supervisor/")


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((ROOT / "deploy" / name).read_text()) if doc]


@pytest.mark.parametrize("name", ["deployment.yaml", "rbac.yaml"])
def test_deploy_manifests_validate_strictly(name: str) -> None:
    for doc in _documents(name):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_sidecar_shares_the_socket_volume_and_keeps_the_log_on_a_claim() -> None:
    deployment = next(d for d in _documents("deployment.yaml") if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    mounts = {c["name"]: {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
              for c in pod["containers"]}
    assert mounts["paperclip"]["supervisor-socket"] == mounts["supervisor"]["supervisor-socket"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["supervisor-socket"]
    assert "persistentVolumeClaim" in volumes["supervisor-state"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    supervisor = next(c for c in pod["containers"] if c["name"] == "supervisor")
    assert build_parser().parse_args(supervisor["args"]).command == "serve"


def test_role_grants_what_the_engine_calls() -> None:
    role = next(d for d in _documents("rbac.yaml") if d["kind"] == "Role")
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    for need in [("batch", "jobs", v) for v in ("create", "get", "list", "watch", "delete")] + [
            ("", "pods", "list"), ("", "pods", "watch"), ("", "pods/log", "get"),
            ("", "secrets", "create"), ("", "secrets", "delete")]:
        assert need in granted, need
