"""supervisor.report's public surface is exactly its ``__all__``."""

from __future__ import annotations

import supervisor.report as report

SUBMODULES = {"assets", "diff", "errors", "export", "html", "runview", "svg", "tail",
              "transcript", "units"}


def test_public_names_are_exactly_all() -> None:
    public = {name for name in vars(report) if not name.startswith("_")}
    assert public - SUBMODULES == set(report.__all__)
    assert all(getattr(report, name) is not None for name in report.__all__)
