"""Container log files: CRI records, long-line pieces, rotation, and how reads see them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from kubesim import timefmt
from kubesim.log_reader import LogQuery, read_log, render
from kubesim.logs import PIECE_BYTES, ContainerLog, GroundTruth, TimestampSource


def ticking_clock(start: int = 1_700_000_000_000_000_000, step: int = 1_000) -> Iterator[int]:
    now = start
    while True:
        yield now
        now += step


_open_logs: list[ContainerLog] = []


@pytest.fixture(autouse=True)
def _close_logs() -> Iterator[None]:
    yield
    while _open_logs:
        log = _open_logs.pop()
        if not log.closed:
            log.close()


def make_log(
    tmp_path: Path, *, resolution: int = 1, max_bytes: int | None = None, max_files: int = 5
) -> tuple[ContainerLog, GroundTruth]:
    ticks = ticking_clock()
    truth = GroundTruth()
    log = ContainerLog(
        tmp_path / "c",
        timestamps=TimestampSource(resolution, clock=lambda: next(ticks)),
        on_line=truth.recorder("ns", "pod", "c"),
        max_bytes=max_bytes,
        max_files=max_files,
    )
    _open_logs.append(log)
    return log, truth


async def read_all(log: ContainerLog, **query: int | bool) -> bytes:
    async with aclosing(read_log(log, LogQuery(**query))) as chunks:  # type: ignore[arg-type]
        return b"".join([chunk.data async for chunk in chunks])


async def test_records_are_cri_lines_with_fixed_width_nano_timestamps(tmp_path: Path) -> None:
    log, _ = make_log(tmp_path)
    log.append("stdout", b"hello world", newline=True)
    log.append("stderr", b"warn", newline=True)
    records = log.current.path.read_bytes().splitlines()
    assert records == [
        b"2023-11-14T22:13:20.000000000Z stdout F hello world",
        b"2023-11-14T22:13:20.000001000Z stderr F warn",
    ]
    assert await read_all(log) == b"hello world\nwarn\n"
    assert await read_all(log, timestamps=True) == (
        b"2023-11-14T22:13:20.000000000Z hello world\n2023-11-14T22:13:20.000001000Z warn\n"
    )


async def test_long_line_is_stored_in_pieces_and_served_whole(tmp_path: Path) -> None:
    log, truth = make_log(tmp_path)
    big = bytes(range(33, 127)) * (1024 * 1024 // 94 + 1)
    big = big[: 1024 * 1024]
    log.append("stdout", big, newline=True)
    log.append("stdout", b"after", newline=True)
    tags = [record.split(b" ", 3)[2] for record in log.current.path.read_bytes().splitlines()]
    # 64 pieces of 16 KiB: 63 continue ("P"), the last ends the line ("F").
    assert tags == [b"P"] * (len(big) // PIECE_BYTES - 1) + [b"F", b"F"]
    served = await read_all(log, timestamps=True)
    first, second = served.split(b"\n")[:2]
    assert first == b"2023-11-14T22:13:20.000000000Z " + big
    assert second == b"2023-11-14T22:13:20.000001000Z after"
    assert [line.data for line in truth.lines("ns", "pod", "c")] == [big, b"after"]


async def test_last_line_without_newline_is_served_as_is(tmp_path: Path) -> None:
    log, truth = make_log(tmp_path)
    log.append("stdout", b"complete", newline=True)
    log.append("stdout", b"no newline" * 2000, newline=False)
    assert await read_all(log) == b"complete\n" + b"no newline" * 2000
    assert truth.lines("ns", "pod", "c")[-1].newline is False


async def test_since_tail_and_limit(tmp_path: Path) -> None:
    log, truth = make_log(tmp_path)
    for number in range(10):
        log.append("stdout", b"line %d" % number, newline=True)
    stamps = [line.ts_ns for line in truth.lines("ns", "pod", "c")]
    assert await read_all(log, since_ns=stamps[7]) == b"line 7\nline 8\nline 9\n"
    assert await read_all(log, tail_lines=2) == b"line 8\nline 9\n"
    assert await read_all(log, tail_lines=0) == b""
    assert await read_all(log, tail_lines=5, since_ns=stamps[8]) == b"line 8\nline 9\n"
    assert await read_all(log, limit_bytes=9) == b"line 0\nli"


async def test_coarse_resolution_makes_lines_share_timestamps(tmp_path: Path) -> None:
    log, truth = make_log(tmp_path, resolution=10_000)
    for number in range(25):
        log.append("stdout", b"%d" % number, newline=True)
    stamps = [line.ts_ns for line in truth.lines("ns", "pod", "c")]
    assert len(set(stamps)) == 3 and stamps == sorted(stamps)


async def test_rotation_keeps_max_files_and_reads_see_only_the_current_file(
    tmp_path: Path,
) -> None:
    log, truth = make_log(tmp_path, max_bytes=200, max_files=2)
    for number in range(20):
        log.append("stdout", b"line %02d" % number, newline=True)
    files = sorted(path.name for path in (tmp_path / "c").iterdir())
    assert len(files) == 2 and "0.log" in files
    served = (await read_all(log)).splitlines()
    assert served and served[-1] == b"line 19" and len(served) < 20
    assert len(truth.lines("ns", "pod", "c")) == 20


async def test_follow_continues_across_rotation_and_ends_when_closed(tmp_path: Path) -> None:
    log, _ = make_log(tmp_path)
    log.append("stdout", b"one", newline=True)
    received: list[bytes] = []
    async with aclosing(read_log(log, LogQuery(follow=True))) as chunks:
        received.append((await anext(chunks)).data)
        log.append("stdout", b"two", newline=True)
        log.rotate()
        log.append("stdout", b"three", newline=True)
        log.close()
        async for chunk in chunks:
            assert chunk.live
            received.append(chunk.data)
    assert b"".join(received) == b"one\ntwo\nthree\n"


def test_render_rejoins_pieces_and_separates_streams() -> None:
    blob = (
        b"2024-01-01T00:00:00.000000001Z stdout P abc\n"
        b"2024-01-01T00:00:00.000000001Z stdout F def\n"
        b"2024-01-01T00:00:00.000000002Z stderr P tail-without-newline\n"
        b"2024-01-01T00:00:00.000000003Z stdout F next\n"
    )
    assert render(blob, timestamps=False, since_text=None) == (
        b"abcdef\ntail-without-newlinenext\n"
    )
    assert render(blob, timestamps=False, since_text=b"2024-01-01T00:00:00.000000002Z") == (
        b"tail-without-newlinenext\n"
    )


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2024-01-02T03:04:05Z", 1704164645_000_000_000),
        ("2024-01-02T03:04:05.5Z", 1704164645_500_000_000),
        ("2024-01-02T03:04:05.123456789Z", 1704164645_123_456_789),
        ("2024-01-02T05:04:05+02:00", 1704164645_000_000_000),
    ],
)
def test_rfc3339_parsing(text: str, ns: int) -> None:
    assert timefmt.parse(text) == ns
    assert timefmt.format_nano(ns).startswith("2024-01-02T03:04:05.")


def test_rfc3339_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not an RFC3339 timestamp"):
        timefmt.parse("yesterday")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
     (10 * 3600, "10h"), (50 * 3600, "2d2h"), (400 * 86400, "400d"), (-5, "<invalid>")],
)
def test_human_duration_matches_kubectl(seconds: float, shown: str) -> None:
    assert timefmt.human_duration(seconds) == shown
