"""Offline debugging views of an event log: HTML timeline, run diff, JSONL export, live tail.

Each is a plain function on an open :class:`events.EventStore` (or on a log path, for the
tail), so the command line only parses arguments and writes the result out.
"""

from supervisor.report.diff import DiffReport as DiffReport
from supervisor.report.diff import diff_runs as diff_runs
from supervisor.report.diff import render_diff_text as render_diff_text
from supervisor.report.errors import BadKinds as BadKinds
from supervisor.report.errors import ReportError as ReportError
from supervisor.report.errors import UnknownRun as UnknownRun
from supervisor.report.export import export_jsonl as export_jsonl
from supervisor.report.export import parse_kinds as parse_kinds
from supervisor.report.html import render_html as render_html
from supervisor.report.runview import RunView as RunView
from supervisor.report.runview import build_run_view as build_run_view
from supervisor.report.tail import follow as follow
from supervisor.report.tail import format_event as format_event

__all__ = [
    "BadKinds",
    "DiffReport",
    "ReportError",
    "RunView",
    "UnknownRun",
    "build_run_view",
    "diff_runs",
    "export_jsonl",
    "follow",
    "format_event",
    "parse_kinds",
    "render_diff_text",
    "render_html",
]
