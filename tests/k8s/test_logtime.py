"""Kubernetes log timestamps are compared exactly, whatever their fraction's length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervisor.k8s import logtime


def test_fractions_of_any_length_compare_as_nanoseconds() -> None:
    assert logtime.parse_ns("2026-11-25T10:00:00.5Z") == logtime.parse_ns(
        "2026-11-25T10:00:00.500000000Z")
    assert logtime.parse_ns("2026-11-25T10:00:00Z") < logtime.parse_ns("2026-11-25T10:00:00.000000001Z")
    assert logtime.parse_ns("2026-11-25T11:00:00+01:00") == logtime.parse_ns("2026-11-25T10:00:00Z")


def test_since_time_floors_to_the_second() -> None:
    assert logtime.since_time("2026-11-25T10:00:07.999999999Z") == "2026-11-25T10:00:07Z"


@given(st.integers(min_value=0, max_value=4_000_000_000 * 10**9))
def test_since_time_never_skips_the_cursor_line(ns: int) -> None:
    import time

    seconds, frac = divmod(ns, 10**9)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"
    assert logtime.parse_ns(stamp) == ns
    assert logtime.parse_ns(logtime.since_time(stamp)) <= ns


def test_split_line_keeps_text_exactly() -> None:
    assert logtime.split_line(b"2026-11-25T10:00:00.1Z {\"a\": 1}\r\n") == (
        "2026-11-25T10:00:00.1Z", b"{\"a\": 1}\r\n")
    assert logtime.split_line(b"2026-11-25T10:00:00.1Z \n") == ("2026-11-25T10:00:00.1Z", b"\n")
    assert logtime.split_line(b"2026-11-25T10:00:00.1Z  two spaces\n")[1] == b" two spaces\n"
    with pytest.raises(logtime.BadTimestamp):
        logtime.split_line(b"not a timestamp\n")
