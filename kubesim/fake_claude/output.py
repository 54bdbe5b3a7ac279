"""Write the fake's stdout and stderr line by line, paced, in the chosen output format.

Every line is flushed as soon as it is written, because pods are followed live: a reader
must see each record when the real CLI would have printed it, not when the process exits.
`--output-format json` and `text` print only the result at the end, as the real CLI does.
"""

from __future__ import annotations

import time
from typing import BinaryIO

from kubesim.fake_claude import records


class Output:
    """The fake's two output streams plus the pacing between stdout lines."""

    def __init__(self, stdout: BinaryIO, stderr: BinaryIO, *, output_format: str,
                 pace_ms: int) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self._format = output_format
        self._pace_s = pace_ms / 1000
        self._lines = 0
        self._result: records.Result | None = None
        self.planned_ms = 0  # time the run "took" so far: pacing plus scripted waits
        self.interleave: tuple[str, ...] = ()  # noise lines to put between records
        self._records = 0

    def _pace(self) -> None:
        if self._lines and self._pace_s > 0:
            time.sleep(self._pace_s)
            self.planned_ms += round(self._pace_s * 1000)
        self._lines += 1

    def _write(self, stream: BinaryIO, data: bytes) -> None:
        stream.write(data + b"\n")
        stream.flush()

    def record(self, record: records.Record) -> None:
        """Print one stream-json record (kept for the end in the json and text formats)."""
        if isinstance(record, records.Result):
            self._result = record
        if self._format != "stream-json":
            return
        if self.interleave and self._records:
            self.raw(self.interleave[(self._records - 1) % len(self.interleave)])
        self._records += 1
        self._pace()
        self._write(self._stdout, records.encode(record))

    def raw(self, line: str | bytes) -> None:
        """Print a line that is not a record (noise), in any output format."""
        self._pace()
        self._write(self._stdout, line.encode() if isinstance(line, str) else line)

    def error(self, line: str) -> None:
        """Print one line on stderr (never paced: stderr is not what tests count)."""
        self._write(self._stderr, line.encode())

    def wait(self, seconds: float) -> None:
        """Sleep as part of the scenario; the time counts toward the run's duration."""
        time.sleep(seconds)
        self.planned_ms += round(seconds * 1000)

    def finish(self) -> None:
        """Print the held result for the json and text formats."""
        if self._result is None or self._format == "stream-json":
            return
        if self._format == "json":
            self._write(self._stdout, records.encode(self._result))
        elif isinstance(self._result.result, str):
            self._write(self._stdout, self._result.result.encode())
