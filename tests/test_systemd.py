"""The systemd units and the example config: verified by systemd itself when it is installed."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supervisor import config

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "systemd"
BIN = shutil.which("paperclip-supervisor", path=str(Path(sys.executable).parent))


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    assert BIN is not None
    # verify checks that ExecStart's binary exists: point it at this venv's.
    service = (UNITS / "paperclip-supervisor.service").read_text()
    assert "/usr/local/bin/paperclip-supervisor serve" in service
    (tmp_path / "paperclip-supervisor.service").write_text(
        service.replace("/usr/local/bin/paperclip-supervisor", BIN))
    shutil.copy(UNITS / "paperclip-supervisor.socket", tmp_path)
    out = subprocess.run(["systemd-analyze", "verify", "paperclip-supervisor.service",
                          "paperclip-supervisor.socket"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", out.stderr  # unknown keys are only warnings: none allowed


def test_service_is_notify_with_watchdog_hardening_and_its_own_user() -> None:
    service = _unit("paperclip-supervisor.service")["Service"]
    assert service["Type"] == "notify" and service["Restart"] == "on-failure"
    assert float(service["WatchdogSec"].rstrip("s")) > 0
    assert service["User"] == "paperclip-supervisor"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/paperclip-supervisor"
    assert "--db /var/lib/paperclip-supervisor/events.db" in service["ExecStart"]
    assert service["RuntimeDirectory"] == "paperclip-supervisor"
    socket_unit = _unit("paperclip-supervisor.socket")["Socket"]
    assert socket_unit["ListenStream"] == config.DEFAULT_SOCKET_PATH
    assert socket_unit["SocketMode"] == "0660"


def test_example_config_is_valid() -> None:
    settings = config.load_config(UNITS / "config.example.toml")
    assert settings.socket_path == config.DEFAULT_SOCKET_PATH
    assert settings.socket_mode == 0o660 and settings.log_source == "api"
