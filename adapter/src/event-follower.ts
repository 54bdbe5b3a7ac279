/**
 * Follow one run's event stream to its end, reconnecting on any socket error.
 *
 * Every event carries a global `seq`, and the sidecar sends only events after the `after` it is
 * given, so reconnecting with the last seq handled loses nothing and repeats nothing; events at or
 * below that seq are dropped anyway, so even a misbehaving stream cannot duplicate output. A seq
 * counts as handled only once its handler has returned.
 *
 * Error handling: connection failures, cut streams, 5xx answers and streams that end before
 * `run.finished` (the sidecar restarting) are retried with backoff for up to `reconnectWindowMs`
 * of continuous failure. A 404 means the sidecar no longer knows the run. Other API errors are
 * raised to the caller, and a hook's failure as `HandlerError` (its `original` is what it threw).
 */

import { setTimeout as sleep } from "node:timers/promises";

import { SidecarApiError, SidecarConnectionError, isTransient } from "./errors.js";
import type { SidecarClient } from "./sidecar-client.js";
import type { RunFinishedEvent, SidecarEvent } from "./wire.js";

export type FollowOutcome =
  | { kind: "finished"; event: RunFinishedEvent; lastSeq: number }
  | { kind: "unreachable"; error: unknown; lastSeq: number }
  | { kind: "missing"; error: SidecarApiError; lastSeq: number }
  | { kind: "stopped"; lastSeq: number };

export interface FollowOptions {
  /** Start after this seq (0: from the run's first event). */
  after: number;
  /** Aborting it ends the follow with `stopped` (used for cancel timeouts and shutdown). */
  stop: AbortSignal;
  /** Give up after failing to reconnect for this long (ms). */
  reconnectWindowMs: number;
}

/** First and largest pause between reconnect attempts (ms), doubling in between. */
const BACKOFF_INITIAL_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export interface FollowHooks {
  /** Handle one new event (in seq order, each once). */
  onEvent(event: SidecarEvent): Promise<void>;
  /** The stream broke; the follower will try again after a pause. */
  onInterrupted?(error: unknown, attempt: number, lastSeq: number): Promise<void>;
  /** The stream is back after an interruption (called with the next event). */
  onResumed?(lastSeq: number): Promise<void>;
}

/** Raised by a handler's failure so the follower does not mistake it for a socket error. */
export class HandlerError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original), { cause: original });
    this.name = "HandlerError";
  }
}

/** Follow `runId` until `run.finished`, the reconnect window runs out, or `stop` is aborted. */
export async function followRun(
  client: SidecarClient,
  runId: string,
  options: FollowOptions,
  hooks: FollowHooks,
): Promise<FollowOutcome> {
  const now = Date.now;
  let lastSeq = options.after;
  let failingSince: number | null = null;
  let attempt = 0;
  let resumed = false;
  const opened = (): void => {
    // The stream is back: the failure window restarts from zero.
    resumed = attempt > 0;
    attempt = 0;
    failingSince = null;
  };

  for (;;) {
    if (options.stop.aborted) return { kind: "stopped", lastSeq };
    try {
      for await (const event of client.events(runId, lastSeq, options.stop, opened)) {
        if (resumed) {
          resumed = false;
          await callHook(() => hooks.onResumed?.(lastSeq));
        }
        if (event.seq <= lastSeq) continue; // already handled: never deliver twice
        await callHook(() => hooks.onEvent(event));
        lastSeq = event.seq;
        if (event.kind === "run.finished") {
          return { kind: "finished", event: event as RunFinishedEvent, lastSeq };
        }
      }
      // The sidecar ends a run's stream only after run.finished, or when it stops.
      throw new SidecarConnectionError(`event stream of run ${runId} ended before run.finished`);
    } catch (error) {
      if (options.stop.aborted) return { kind: "stopped", lastSeq };
      if (error instanceof HandlerError) throw error;
      if (error instanceof SidecarApiError && error.status === 404) return { kind: "missing", error, lastSeq };
      if (!isTransient(error)) throw error;
      failingSince ??= now();
      if (now() - failingSince >= options.reconnectWindowMs) return { kind: "unreachable", error, lastSeq };
      attempt += 1;
      await callHook(() => hooks.onInterrupted?.(error, attempt, lastSeq));
      const pause = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(attempt - 1, 16));
      try {
        await sleep(pause, undefined, { signal: options.stop });
      } catch {
        return { kind: "stopped", lastSeq };
      }
    }
  }
}

async function callHook(hook: () => Promise<void> | undefined): Promise<void> {
  try {
    await hook();
  } catch (error) {
    throw new HandlerError(error);
  }
}
