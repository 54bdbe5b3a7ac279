"""Following a run's output from its tee file on the shared volume (``log_source = "file"``).

End to end: the pod tees Claude's stdout to a per-run file on a PersistentVolumeClaim; kubesim
backs the claim with a host directory and the daemon's ``shared_volume_host_dir`` is that same
directory, as it would be the volume's mount in the supervisor's pod. The pod-log API fails on
every call, so whatever reaches the event log can only have come from the file.

``FileLogFollower`` on its own: the test writes the file and says when the "container" is done;
it waits for the follower by counting how often the follower has looked (it asks whether the
container is done on every poll), never by sleeping and hoping.
"""

from __future__ import annotations

import logging
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from events import EventStore, fold, state, types
from kubesim import faults
from supervisor.engine import follow
from supervisor.engine.follow import FileLogFollower, FollowResult, FollowSettings
from supervisor.engine.writer import EventWriter
from tests.lifecycle.harness import Rig, rig

CLAIM = "paperclip-workspace"
# An init line as a pod would print it, and the rest of a run, for the follower-only tests.
LINE_1 = b'{"type":"system","subtype":"init","session_id":"s-1"}\n'
LINE_2 = b'{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}\n'
LINE_3 = b'{"type":"result","subtype":"success","is_error":false,"result":"hi"}\n'


# --- end to end through the daemon ------------------------------------------------------------


@asynccontextmanager
async def file_rig(volume: Path, *, host_dir: Path | None = None,
                   path_prepend: tuple[Path, ...] = ()) -> AsyncIterator[Rig]:
    """A rig whose daemon tails tee files on ``volume`` and whose pod-log API always fails.

    ``host_dir`` is where the daemon looks for the volume (default: where it really is).
    """
    await trio.Path(volume).mkdir(parents=True, exist_ok=True)
    async with rig(sim_options={"pvc_dirs": {CLAIM: volume}, "path_prepend": list(path_prepend)},
                   log_source="file", shared_volume_host_dir=str(host_dir or volume),
                   agent={"workspaceVolumeClaim": CLAIM}) as r:
        r.sim.inject(faults.HttpError(status=500, path=r"/pods/[^/]+/log$"))
        yield r


def pod_claude(directory: Path, python_body: str) -> Path:
    """A ``claude`` for the pod's PATH: runs the fake Claude and passes its output through
    ``python_body``, which has ``out`` (the fake's stdout bytes) and ``write(bytes)``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "claude"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, subprocess, sys, time\n"
        "out = subprocess.run([sys.executable, '-m', 'kubesim.fake_claude', *sys.argv[1:]],\n"
        "                     stdin=sys.stdin, stdout=subprocess.PIPE, check=True).stdout\n"
        "def write(data):\n"
        "    sys.stdout.buffer.write(data)\n"
        "    sys.stdout.buffer.flush()\n"
        f"{python_body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


def tee_file(r: Rig, volume: Path, run_id: str) -> Path:
    [(built, _)] = r.events(run_id, "manifest.built")
    assert built.log_path, "the run was built without a tee file"
    return volume / str(built.log_path)


def assert_file_transcript(r: Rig, volume: Path, run_id: str,
                           final: dict[str, Any]) -> list[tuple[Any, bytes]]:
    """The log holds exactly what the pod printed, in whole lines, each chunk's cursor being
    the byte offset in the tee file just past its data. Returns the chunk events."""
    printed = r.printed(final["podName"])
    assert r.transcript(run_id) == printed
    assert tee_file(r, volume, run_id).read_bytes() == printed
    chunks = r.events(run_id, "log.chunk")
    assert chunks, r.dump(run_id)
    offset = 0
    for index, (event, data) in enumerate(chunks):
        offset += len(data)
        assert (event.cursor_offset, event.nbytes) == (offset, len(data)), r.dump(run_id)
        assert event.lines == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if index < len(chunks) - 1:
            assert data.endswith(b"\n"), f"chunk {index} ends mid-line: {data[-80:]!r}"
    assert offset == len(printed)
    assert "log.reconnected" not in r.kinds(run_id)
    return chunks


async def wait_for_kind(r: Rig, run_id: str, kind: str, limit: float = 30) -> None:
    with trio.fail_after(limit):
        async with r.client.events(run_id, follow=True) as stream:
            async for event in stream:
                if event["kind"] == kind:
                    return
                assert event["kind"] != "run.finished", f"{run_id} finished without {kind}"


async def test_a_run_is_followed_from_its_tee_file_exactly(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    async with file_rig(volume) as r:
        await r.start("run-file", "#scenario tool tools=2\nfix it")
        final = await r.wait_finished("run-file")
        assert final["phase"] == "succeeded", r.dump("run-file")
        assert final["exitCode"] == 0
        assert_file_transcript(r, volume, "run-file", final)
        result = await r.client.result("run-file")
        assert result["sessionId"] and result["errorCode"] is None


async def test_a_one_mebibyte_line_arrives_whole_in_one_chunk(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    async with file_rig(volume) as r:
        await r.start("run-big", "#scenario big-line bytes=1048576\nhi")
        final = await r.wait_finished("run-big")
        assert final["phase"] == "succeeded", r.dump("run-big")
        chunks = assert_file_transcript(r, volume, "run-big", final)
        big = [data for _, data in chunks if len(data) > 1_048_576]
        assert len(big) == 1 and big[0].count(b"\n") == 1, [len(d) for _, d in chunks]


async def test_chatty_output_is_exact_and_chunked(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    async with file_rig(volume) as r:
        await r.start("run-chatty", "#scenario chatty lines=5000 width=120\nwork")
        final = await r.wait_finished("run-chatty")
        assert final["phase"] == "succeeded", r.dump("run-chatty")
        chunks = assert_file_transcript(r, volume, "run-chatty", final)
        assert r.transcript("run-chatty").count(b"chatty line ") == 5000
        assert len(chunks) >= 3, "700 KB of output should need several chunks"
        assert all(len(data) <= follow.MAX_CHUNK_BYTES for _, data in chunks)


async def test_output_without_a_final_newline_keeps_its_last_line(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    bin_dir = pod_claude(tmp_path / "bin", "write(out[:-1])")  # drop the result's newline
    async with file_rig(volume, path_prepend=(bin_dir,)) as r:
        await r.start("run-no-eol", "#scenario happy\nhi")
        final = await r.wait_finished("run-no-eol")
        assert final["phase"] == "succeeded", r.dump("run-no-eol")
        assert_file_transcript(r, volume, "run-no-eol", final)
        transcript = r.transcript("run-no-eol")
        assert not transcript.endswith(b"\n")
        assert transcript.rsplit(b"\n", 1)[1].startswith(b'{"type":"result"')
        # The unterminated result line was parsed too: the run has its session and cost.
        result = await r.client.result("run-no-eol")
        assert result["sessionId"] and result["errorCode"] is None


async def test_a_line_written_in_two_halves_is_never_split(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    # The pod writes its first line and half of the second, then waits for the test's go.
    bin_dir = pod_claude(tmp_path / "bin", "\n".join([
        "cut = out.index(b'\\n') + 40",
        "write(out[:cut])",
        "go = os.path.join(os.environ['HOME'], 'go')",
        "deadline = time.monotonic() + 30",
        "while not os.path.exists(go) and time.monotonic() < deadline:",
        "    time.sleep(0.02)",
        "write(out[cut:])",
    ]))
    async with file_rig(volume, path_prepend=(bin_dir,)) as r:
        await r.start("run-halves", "#scenario tool\nhi")
        # The first line is logged, so the follower has read the half line written with it.
        await wait_for_kind(r, "run-halves", "log.chunk")
        [(first, data)] = r.events("run-halves", "log.chunk")
        assert data.count(b"\n") == 1 and first.cursor_offset == len(data)
        (volume / "go").touch()
        final = await r.wait_finished("run-halves")
        assert final["phase"] == "succeeded", r.dump("run-halves")
        assert_file_transcript(r, volume, "run-halves", final)


async def test_a_tee_file_the_daemon_cannot_see_is_reported_as_a_gap_at_once(
        tmp_path: Path) -> None:
    volume, elsewhere = tmp_path / "volume", tmp_path / "not-the-volume"
    elsewhere.mkdir()
    async with file_rig(volume, host_dir=elsewhere) as r:
        await r.start("run-blind", "#scenario happy\nhi")
        # Well inside the 30 s the follower used to wait for the file whatever the pod did.
        final = await r.wait_finished("run-blind", limit=15)
        assert final["phase"] == "failed", r.dump("run-blind")
        [(gap, _)] = r.events("run-blind", "log.gap")
        assert "never appeared" in gap.reason and str(elsewhere) in gap.reason
        assert r.transcript("run-blind") == b""
        assert tee_file(r, volume, "run-blind").read_bytes() == r.printed(final["podName"])


async def test_a_run_that_adopts_a_live_job_follows_that_jobs_tee_file(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    async with file_rig(volume) as r:
        await r.start("run-before", "#scenario chatty lines=30 pace_ms=40\nwork", taskKey="T9")
        first = await r.wait_phase("run-before", "running")
        await r.start("run-after", "#scenario happy\nignored: the Job already runs", taskKey="T9")
        final = await r.wait_finished("run-after")
        assert final["podName"] == first["podName"] and "run.reattached" in r.kinds("run-after")
        assert "log.gap" not in r.kinds("run-after"), r.dump("run-after")
        assert r.transcript("run-after") == r.printed(final["podName"])
        await r.wait_finished("run-before")


# --- the follower on its own ------------------------------------------------------------------


class Container:
    """The follower's view of the container: ``done`` when set, and how often it was asked."""

    def __init__(self, done: bool = False) -> None:
        self.done = done
        self.looks = 0
        self._asked = trio.Event()

    def __call__(self) -> bool:
        self.looks += 1
        self._asked.set()
        self._asked = trio.Event()
        return self.done

    async def looked(self, times: int = 3) -> None:
        """Return once the follower has polled ``times`` more times."""
        target = self.looks + times
        with trio.fail_after(10):
            while self.looks < target:
                await self._asked.wait()


QUICK = FollowSettings(bail_timeout=0.2, file_poll=0.01, file_idle_poll=0.02,
                       file_appear_timeout=0.05)


class Tail:
    """A FileLogFollower over ``path`` writing to a real event log, and what it did."""

    def __init__(self, writer: EventWriter, path: Path, container: Container,
                 cursor: state.Cursor) -> None:
        self.writer = writer
        self.lines: list[bytes] = []
        self.final: list[tuple[types.LogChunk, bytes]] | None = None  # kept once the log closes
        self.outcome: FollowResult | None = None
        self.follower = FileLogFollower(
            writer=writer, run_id="run-tail", path=str(path), cursor=cursor,
            container_done=container, on_lines=self.lines.extend, settings=QUICK)

    def result(self) -> FollowResult:
        assert self.outcome is not None, "the follower has not finished"
        return self.outcome

    def chunks(self) -> list[tuple[types.LogChunk, bytes]]:
        if self.final is not None:
            return self.final
        chunks = []
        for stored in self.writer.log.read(0, kinds=("log.chunk",)):
            assert isinstance(stored.event, types.LogChunk)
            chunks.append((stored.event, stored.data or b""))
        return chunks

    def logged(self) -> bytes:
        return b"".join(data for _, data in self.chunks())

    def offsets(self) -> list[int]:
        return [event.cursor_offset for event, _ in self.chunks()]


@asynccontextmanager
async def tailing(tmp_path: Path, path: Path, container: Container, *,
                  offset: int = -1) -> AsyncIterator[Tail]:
    """Run a follower in the background for the block; leaving it waits for the follower."""
    with EventStore.open(tmp_path / "events.db") as log:
        writer = EventWriter(log, fold([]))
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            tail = Tail(writer, path, container, state.Cursor(offset=offset))
            finished = trio.Event()

            async def follow_it() -> None:
                tail.outcome = await tail.follower.run()
                finished.set()

            nursery.start_soon(follow_it)
            yield tail
            with trio.fail_after(10):
                await finished.wait()
            tail.final = tail.chunks()
            nursery.cancel_scope.cancel()


async def test_a_partial_line_waits_for_its_newline(tmp_path: Path) -> None:
    path, container = tmp_path / "run.ndjson", Container()
    path.write_bytes(LINE_1 + LINE_2[:30])
    async with tailing(tmp_path, path, container) as tail:
        await container.looked()
        assert tail.logged() == LINE_1
        with path.open("ab") as f:
            f.write(LINE_2[30:] + LINE_3)
        container.done = True
    assert tail.result().outcome == "drained"
    assert [data for _, data in tail.chunks()] == [LINE_1, LINE_2 + LINE_3]
    assert tail.offsets() == [len(LINE_1), len(LINE_1 + LINE_2 + LINE_3)]
    assert tail.lines == [LINE_1, LINE_2, LINE_3]


async def test_an_unterminated_last_line_is_taken_once_the_container_is_done(
        tmp_path: Path) -> None:
    path, container = tmp_path / "run.ndjson", Container()
    path.write_bytes(LINE_1 + LINE_2[:-1])
    async with tailing(tmp_path, path, container) as tail:
        await container.looked()
        assert tail.logged() == LINE_1  # still running: the line may yet be finished
        container.done = True
    assert tail.result().outcome == "drained"
    assert tail.logged() == LINE_1 + LINE_2[:-1]
    assert tail.offsets()[-1] == path.stat().st_size
    assert tail.chunks()[-1][0].lines == 1


async def test_following_resumes_at_the_cursor_offset(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    path.write_bytes(LINE_1 + LINE_2 + LINE_3)
    async with tailing(tmp_path, path, Container(done=True), offset=len(LINE_1)) as tail:
        pass
    assert tail.result().outcome == "drained"
    assert tail.logged() == LINE_2 + LINE_3
    assert tail.offsets() == [len(LINE_1 + LINE_2 + LINE_3)]


async def test_a_backlog_is_read_in_bounded_slices(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A line far longer than a slice, many short ones, and an unterminated end.
    content = b"x" * 1000 + b"\n" + b"".join(b"line %03d\n" % n for n in range(50)) + b"tail"
    path = tmp_path / "run.ndjson"
    path.write_bytes(content)
    reads: list[int] = []
    real_read = follow._read_range

    def counting_read(name: str, start: int, end: int) -> bytes:
        data = real_read(name, start, end)
        reads.append(len(data))
        return data

    monkeypatch.setattr(follow, "FILE_READ_BYTES", 64)
    monkeypatch.setattr(follow, "_read_range", counting_read)
    async with tailing(tmp_path, path, Container(done=True)) as tail:
        pass
    assert tail.result().outcome == "drained"
    assert tail.logged() == content
    assert max(reads) <= 64 and sum(reads) == len(content)
    assert b"".join(tail.lines) == content and tail.lines[0] == b"x" * 1000 + b"\n"
    assert all(data.endswith(b"\n") for _, data in tail.chunks()[:-1])
    assert tail.offsets()[-1] == len(content)


async def test_a_file_that_shrinks_is_reported_incomplete(tmp_path: Path) -> None:
    path, container = tmp_path / "run.ndjson", Container()
    path.write_bytes(LINE_1 + LINE_2)
    async with tailing(tmp_path, path, container) as tail:
        await container.looked()
        assert tail.logged() == LINE_1 + LINE_2
        path.write_bytes(LINE_3)  # replaced by a shorter file: what followed is unknowable
    assert tail.result().outcome == "incomplete"
    assert "shrank" in tail.result().detail and str(path) in tail.result().detail
    assert tail.logged() == LINE_1 + LINE_2


async def test_a_file_that_vanishes_is_a_gone_source(tmp_path: Path) -> None:
    path, container = tmp_path / "run.ndjson", Container()
    path.write_bytes(LINE_1)
    async with tailing(tmp_path, path, container) as tail:
        await container.looked()
        path.unlink()
    assert tail.result().outcome == "source_gone"
    assert "vanished" in tail.result().detail
    assert tail.logged() == LINE_1


async def test_a_file_that_never_appears_after_the_container_exited_is_incomplete(
        tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "run.ndjson"
    start = trio.current_time()
    async with tailing(tmp_path, path, Container(done=True)) as tail:
        pass
    assert tail.result().outcome == "incomplete"
    assert "never appeared" in tail.result().detail and str(path) in tail.result().detail
    # It waited for a lagging shared filesystem, and not much longer.
    assert QUICK.bail_timeout <= trio.current_time() - start < 5
    assert tail.chunks() == []


async def test_a_late_file_is_still_followed_while_the_container_runs(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="supervisor.engine.follow")
    path, container = tmp_path / "run.ndjson", Container()
    async with tailing(tmp_path, path, container) as tail:
        # Well past file_appear_timeout: a slow preflight in the pod must not lose the run.
        await container.looked(int(3 * QUICK.file_appear_timeout / QUICK.file_poll) + 1)
        path.write_bytes(LINE_1)
        container.done = True
    assert tail.result().outcome == "drained"
    assert tail.logged() == LINE_1
    assert f"log file {path} has not appeared" in caplog.text

