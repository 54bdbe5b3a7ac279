"""The architecture's rules, checked: layer contracts and the public surface."""

from __future__ import annotations

import ast
from pathlib import Path

import events

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_events_imports_no_kubernetes_trio_http_or_supervisor() -> None:
    assert _imports("events") & {"supervisor", "kubesim", "trio", "httpx", "kubernetes"} == set()


def test_kubesim_knows_only_the_wire_format() -> None:
    assert _imports("kubesim") & {"supervisor", "events"} == set()


def test_events_public_surface_is_exactly_all() -> None:
    public = {name for name in vars(events) if not name.startswith("_")}
    modules = {"codec", "errors", "replay", "state", "store"}  # submodules, not re-exports
    assert public - modules == set(events.__all__)
