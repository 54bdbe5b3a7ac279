"""Generated logs shared by the report tests (written once per session: they never change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report import logs


@pytest.fixture(scope="session")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("story") / "events.db"
    logs.write_story_log(str(path))
    return path


@pytest.fixture(scope="session")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "events.db"
    logs.write_big_log(str(path))
    return path
