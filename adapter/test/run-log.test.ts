/** `RunLog` ordering and the `StatusTicker`'s guarantee, on a hand-driven clock. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { LogStream } from "../src/contract.js";
import { RunLog, StatusTicker, type TickerClock } from "../src/run-log.js";

/** A clock the test moves by hand; `advance` fires due interval callbacks in order. */
class ManualClock implements TickerClock {
  time = 0;
  private timers: Array<{ callback: () => void; every: number; next: number; id: number }> = [];
  private ids = 0;

  now(): number {
    return this.time;
  }

  setInterval(callback: () => void, ms: number): unknown {
    this.ids += 1;
    this.timers.push({ callback, every: ms, next: this.time + ms, id: this.ids });
    return this.ids;
  }

  clearInterval(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get active(): number {
    return this.timers.length;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.every;
      due.callback();
      await flush();
    }
    this.time = end;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

describe("RunLog", () => {
  it("hands chunks to onLog one at a time, in the order written", async () => {
    const seen: string[] = [];
    let release: (() => void) | null = null;
    const log = new RunLog(async (_stream: LogStream, chunk: string) => {
      seen.push(`start ${chunk}`);
      if (chunk === "a") await new Promise<void>((resolve) => { release = resolve; });
      seen.push(`end ${chunk}`);
    });
    const first = log.write("stdout", "a");
    const second = log.status("b");
    await flush();
    assert.deepEqual(seen, ["start a"], "the second write waits for the first");
    (release as unknown as () => void)();
    await Promise.all([first, second]);
    assert.deepEqual(seen, ["start a", "end a", "start [paperclip-sidecar] b\n", "end [paperclip-sidecar] b\n"]);
    assert.equal(log.chunks, 2);
  });

  it("reports a failed write to its caller and still runs the next", async () => {
    const log = new RunLog(async (_stream, chunk) => {
      if (chunk === "bad") throw new Error("disk full");
    });
    await assert.rejects(log.write("stdout", "bad"), /disk full/);
    await log.write("stdout", "good");
    assert.equal(log.chunks, 2);
  });
});

describe("StatusTicker", () => {
  it("writes a status line once the log has been quiet for an interval, and not before", async () => {
    const clock = new ManualClock();
    const lines: Array<{ at: number; chunk: string }> = [];
    const log = new RunLog(async (_s, chunk) => {
      lines.push({ at: clock.now(), chunk });
    }, () => clock.now());
    const ticker = new StatusTicker(log, 30_000, () => "still working", clock);
    ticker.start();

    await clock.advance(29_999);
    assert.equal(lines.length, 0);
    await clock.advance(1); // checks run every 7.5 s: the one at 30 s finds 30 s of quiet
    assert.deepEqual(lines, [{ at: 30_000, chunk: "[paperclip-sidecar] still working\n" }]);

    // Output at 40 s resets the quiet period: checks at 67.5 s (27.5 s quiet) write nothing, the
    // one at 75 s (35 s quiet) writes.
    await clock.advance(10_000);
    await log.write("stdout", "{\"type\":\"assistant\"}\n");
    await clock.advance(30_000);
    assert.equal(lines.length, 2);
    await clock.advance(5_000);
    assert.equal(lines.length, 3);
    assert.equal(lines[2]?.at, 75_000);

    ticker.stop();
    assert.equal(clock.active, 0);
    await clock.advance(120_000);
    assert.equal(lines.length, 3);
  });

  it("keeps every silence under 1.25 intervals over a long quiet run", async () => {
    const clock = new ManualClock();
    const times: number[] = [0];
    const log = new RunLog(async () => {
      times.push(clock.now());
    }, () => clock.now());
    const ticker = new StatusTicker(log, 60_000, () => "quiet", clock);
    ticker.start();
    await clock.advance(60 * 60_000);
    ticker.stop();
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    assert.ok(gaps.length >= 59);
    assert.ok(Math.max(...gaps) <= 75_000, `largest gap ${Math.max(...gaps)} ms`);
  });

  it("does not pile up lines while onLog is slow", async () => {
    const clock = new ManualClock();
    let calls = 0;
    let release: (() => void) | null = null;
    const log = new RunLog(async () => {
      calls += 1;
      await new Promise<void>((resolve) => { release = resolve; });
    }, () => clock.now());
    const ticker = new StatusTicker(log, 1_000, () => "quiet", clock);
    ticker.start();
    await clock.advance(10_000);
    assert.equal(calls, 1, "one status line in flight at a time");
    (release as unknown as () => void)();
    ticker.stop();
  });
});
