"""``export_jsonl``: the log as JSON lines, whole or filtered, in the API's event shape."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from events import EventStore, codec
from supervisor.report import BadKinds, export_jsonl, parse_kinds
from tests.report import golden


def _export(path: Path, **options: object) -> str:
    out = io.BytesIO()
    with EventStore.open_readonly(path) as log:
        count = export_jsonl(log, out, **options)  # type: ignore[arg-type]
    text = out.getvalue().decode()
    assert count == len(text.splitlines())
    return text


def test_whole_log_golden(story_db: Path) -> None:
    golden.check("export_story.jsonl", _export(story_db))


def test_each_line_is_the_events_api_form(story_db: Path) -> None:
    lines = _export(story_db).splitlines()
    with EventStore.open_readonly(story_db) as log:
        events = log.read(0)
    assert [json.loads(line) for line in lines] == [codec.event_to_json(e) for e in events]
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(events) + 1))


def test_filters_select_a_subset_of_the_whole_export(story_db: Path) -> None:
    whole = [json.loads(line) for line in _export(story_db).splitlines()]
    kinds = parse_kinds("log.*,run.finished")
    part = [json.loads(line) for line in
            _export(story_db, run_id="run-flaky", kinds=kinds).splitlines()]
    assert part == [e for e in whole if e["runId"] == "run-flaky" and e["kind"] in kinds]
    assert {e["kind"] for e in part} == {"log.chunk", "log.gap", "log.reconnected",
                                         "run.finished"}
    daemon = [json.loads(line) for line in _export(story_db, run_id="").splitlines()]
    assert [e["kind"] for e in daemon] == ["supervisor.started", "supervisor.stopped",
                                           "supervisor.started", "supervisor.started"]
    window = [json.loads(line)["seq"] for line in
              _export(story_db, after=10, until=20).splitlines()]
    assert window == list(range(11, 21))


def test_parse_kinds_expands_globs_without_duplicates() -> None:
    assert parse_kinds("run.finished, log.*,log.gap") == (
        "run.finished", "log.chunk", "log.gap", "log.reconnected")
    assert parse_kinds("supervisor.*") == ("supervisor.started", "supervisor.stopped")


@pytest.mark.parametrize("spec, message", [
    ("", "needs at least one event kind"),
    (" , ", "needs at least one event kind"),
    ("run.finished,log.chnk", "unknown event kind 'log.chnk'; known kinds: cancel.requested"),
    ("nope.*", "unknown event kind 'nope.*'"),
])
def test_parse_kinds_names_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(BadKinds, match=message.replace(".", r"\.").replace("*", r"\*")):
        parse_kinds(spec)
