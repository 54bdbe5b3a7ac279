/**
 * The run's output channel to Paperclip: every `onLog` call goes through here.
 *
 * Why this module exists: Paperclip's reaper judges a run by when its row last moved, and only
 * `onLog` output moves it while `execute` is pending. `RunLog` serialises the calls (output
 * lines and status lines never interleave or reorder) and remembers when the last one was made;
 * `StatusTicker` uses that to write a status line whenever the run has been quiet for one
 * interval, whatever the sidecar sends, so a live run is never reaped as stale.
 */

import type { LogStream } from "./contract.js";

/** Prefix of every line the adapter writes itself (as opposed to Claude's own output). */
export const STATUS_PREFIX = "[paperclip-sidecar]";

export type OnLog = (stream: LogStream, chunk: string) => Promise<void>;

export class RunLog {
  private tail: Promise<void> = Promise.resolve();
  private last: number;
  private written = 0;

  constructor(
    private readonly onLog: OnLog,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
  }

  /** When the last call to `onLog` was started (ms, on `now`'s clock). */
  get lastWriteAt(): number {
    return this.last;
  }

  /** How many chunks were handed to `onLog`. */
  get chunks(): number {
    return this.written;
  }

  /** Pass one chunk (a raw output line) to `onLog`, after every earlier one. */
  write(stream: LogStream, chunk: string): Promise<void> {
    const next = this.tail.then(() => {
      this.last = this.now();
      this.written += 1;
      return this.onLog(stream, chunk);
    });
    // Later writes still run after a failed one; the failure reaches this write's caller.
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Write one of the adapter's own status lines. */
  status(text: string, stream: LogStream = "stdout"): Promise<void> {
    return this.write(stream, `${STATUS_PREFIX} ${text}\n`);
  }

  /** Resolves once every write so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}

export interface TickerClock {
  now(): number;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realClock: TickerClock = {
  now: () => Date.now(),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Writes `describe()` as a status line whenever the log has been quiet for `intervalMs`.
 *
 * It checks four times per interval, so the longest silence is at most 1.25 intervals plus the
 * time one `onLog` call takes; with the 60 s cap on the interval that stays far inside the
 * reaper's 5 minutes.
 */
export class StatusTicker {
  private handle: unknown = null;
  private busy = false;
  /** Set when writing a status line failed; the run's own writes will report it too. */
  failure: unknown = null;

  constructor(
    private readonly log: RunLog,
    private readonly intervalMs: number,
    private readonly describe: () => string,
    private readonly clock: TickerClock = realClock,
  ) {}

  start(): void {
    if (this.handle !== null) return;
    this.handle = this.clock.setInterval(() => this.check(), Math.max(1, this.intervalMs / 4));
  }

  stop(): void {
    if (this.handle === null) return;
    this.clock.clearInterval(this.handle);
    this.handle = null;
  }

  /** One check (the timer calls this; tests may too). */
  check(): void {
    if (this.busy || this.clock.now() - this.log.lastWriteAt < this.intervalMs) return;
    this.busy = true;
    this.log
      .status(this.describe())
      .catch((error: unknown) => {
        this.failure = error;
      })
      .finally(() => {
        this.busy = false;
      });
  }
}
