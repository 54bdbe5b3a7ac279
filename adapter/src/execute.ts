/**
 * `execute(ctx)`: one Paperclip heartbeat run, delegated to the sidecar.
 *
 * Steps: read the adapter config; build the run request; `POST /v1/runs` (idempotent on the
 * Paperclip run id, retried briefly while the sidecar is unreachable); `onMeta`; follow the run's
 * events from the start, passing each output line to `onLog` as Claude printed it and writing a
 * status line whenever the run has been quiet for one interval; on `run.finished`, read the
 * result and return it as Paperclip's execution result.
 *
 * Cancellation: an abort of `ctx.signal`, or Paperclip's run row turning `cancelled`, sends the
 * sidecar's cancel; the run is still followed until the sidecar reports its end (bounded by
 * `cancelGraceSec`), so `execute` settles only when the Job is gone.
 *
 * Error handling: `execute` never throws. Every failure becomes a result with an error code (see
 * `errors.ts`), because Paperclip treats a thrown error as an unexplained failure. It never calls
 * `onSpawn`: there is no local process, and reporting the sidecar's pid would let a cancel kill it.
 */

import { setTimeout as sleep } from "node:timers/promises";

import { readAdapterSettings, type AdapterSettings } from "./adapter-config.js";
import { CancelWatch, type PaperclipPoll } from "./cancellation.js";
import type { AdapterExecutionContext, AdapterExecutionResult, LogStream } from "./contract.js";
import {
  ConfigError,
  ErrorCode,
  SidecarApiError,
  isTransient,
} from "./errors.js";
import { keepaliveText, statusLineFor } from "./event-lines.js";
import { HandlerError, followRun, type FollowOutcome } from "./event-follower.js";
import { splitLines } from "./lines.js";
import { adapterFailure, failureFor, fromFinishedEvent, toExecutionResult } from "./result-mapping.js";
import { RunLog, StatusTicker } from "./run-log.js";
import { describeSubmission, invocationMeta, type Submission } from "./run-meta.js";
import { buildRunRequest } from "./run-request.js";
import { SidecarClient } from "./sidecar-client.js";
import { RUN_CONFLICT, RUN_NOT_TERMINAL, type RunRequestBody, type RunState, type SidecarEvent } from "./wire.js";

/** Seams for tests; production uses the defaults. */
export interface ExecuteDeps {
  /** The server's environment (for `PAPERCLIP_API_URL`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const RESULT_ATTEMPTS = 20;
const RESULT_RETRY_MS = 250;
const CANCEL_RETRY_MS = 500;

/** Run one heartbeat through the sidecar (never throws; failures are results). */
export async function execute(ctx: AdapterExecutionContext, deps: ExecuteDeps = {}): Promise<AdapterExecutionResult> {
  const log = new RunLog(ctx.onLog);
  try {
    return await executeRun(ctx, deps, log);
  } catch (error) {
    // A bug or a failing Paperclip callback: still an explained failure, never a throw.
    const message = error instanceof Error ? error.message : String(error);
    await log.status(`adapter error: ${message}`, "stderr").catch(() => undefined);
    return adapterFailure(ErrorCode.SIDECAR_ERROR, `the sidecar adapter failed: ${message}`);
  }
}

async function executeRun(ctx: AdapterExecutionContext, deps: ExecuteDeps, log: RunLog): Promise<AdapterExecutionResult> {
  let settings: AdapterSettings;
  try {
    settings = readAdapterSettings(ctx.config ?? {}, deps.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await log.status(`invalid adapter config: ${error.message}`, "stderr");
    return adapterFailure(ErrorCode.CONFIG_INVALID, error.message);
  }
  if (ctx.signal?.aborted) return adapterFailure(ErrorCode.CANCELLED, "Run cancelled before it was started");

  const client = new SidecarClient(settings.socketPath);
  const { body, warnings } = await buildRunRequest(ctx, settings);
  for (const warning of warnings) await log.status(warning, "stderr");

  await ctx.onCancellationReady?.();
  ctx.onDispatch?.();
  let submission: Submission;
  try {
    submission = await submit(client, body, settings, log, ctx.signal);
  } catch (error) {
    if (ctx.signal?.aborted) {
      // The POST may have reached the sidecar before the abort: cancel whatever it started.
      await client.cancelRun(body.runId, "cancelled while starting").catch(() => undefined);
      return adapterFailure(ErrorCode.CANCELLED, "Run cancelled while it was being started");
    }
    const failure = failureFor(error, "starting the run");
    await log.status(failure.errorMessage ?? "", "stderr");
    return failure;
  }

  await ctx.onMeta?.(invocationMeta(ctx, body, settings, submission));
  await log.status(describeSubmission(submission));
  return follow(ctx, log, client, settings, submission.run);
}

/** POST the run; retry while the sidecar is unreachable; a 409 conflict follows the existing run. */
async function submit(
  client: SidecarClient,
  body: RunRequestBody,
  settings: AdapterSettings,
  log: RunLog,
  signal: AbortSignal | undefined,
): Promise<Submission> {
  const deadline = Date.now() + settings.startRetryMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { created, run } = await client.createRun(body);
      return { run, how: created ? "created" : "existing" };
    } catch (error) {
      if (error instanceof SidecarApiError && error.status === 409 && error.code === RUN_CONFLICT) {
        // Same Paperclip run, posted before with another body (its context changed since, say
        // across a Paperclip restart): the sidecar's run is this run, so follow it.
        return { run: await client.getRun(body.runId), how: "conflict" };
      }
      if (!isTransient(error) || Date.now() >= deadline) throw error;
      if (attempt === 1) {
        await log.status(
          `the sidecar is not answering (${(error as Error).message}); retrying for up to ${settings.startRetryMs / 1000}s`,
          "stderr",
        );
      }
      await sleep(Math.min(2_000, 100 * 2 ** attempt), undefined, signal ? { signal } : {});
    }
  }
}

async function follow(
  ctx: AdapterExecutionContext,
  log: RunLog,
  client: SidecarClient,
  settings: AdapterSettings,
  run: RunState,
): Promise<AdapterExecutionResult> {
  const runId = run.runId;
  const stop = new AbortController();
  let graceTimer: NodeJS.Timeout | null = null;
  let lastKeepalive: SidecarEvent | null = null;
  let lastOutputAt = Date.now();
  let reconnecting = false;
  let seenSeq = 0;

  const ticker = new StatusTicker(log, settings.statusIntervalMs, () => {
    if (reconnecting) return `waiting for the sidecar to answer again (run ${runId}, after seq ${seenSeq})`;
    const quiet = Math.round((Date.now() - lastOutputAt) / 1000);
    const tick = lastKeepalive ? `; last sidecar tick: ${keepaliveText(lastKeepalive)}` : "";
    return `run ${runId} active, no output for ${quiet}s${tick}`;
  });

  const cancel = new CancelWatch(ctx.signal, paperclipPoll(ctx, settings));
  cancel.onPollError = (error) => {
    void log.status(`cannot ask Paperclip whether the run was cancelled: ${(error as Error).message}`, "stderr")
      .catch(() => undefined);
  };
  cancel.onRequested((reason) => {
    graceTimer = setTimeout(() => stop.abort(), settings.cancelGraceMs);
    void sendCancel(client, runId, reason, log, stop.signal);
  });

  let outcome: FollowOutcome;
  ticker.start();
  cancel.start();
  try {
    outcome = await followRun(client, runId, { after: 0, stop: stop.signal, reconnectWindowMs: settings.reconnectWindowMs }, {
      onEvent: async (event) => {
        seenSeq = event.seq;
        if (event.kind === "log.chunk") {
          lastOutputAt = Date.now();
          const stream: LogStream = event.stream === "stderr" ? "stderr" : "stdout";
          // One raw line per call, exactly as Claude printed it, for Paperclip's transcript parser.
          for (const line of splitLines(typeof event.text === "string" ? event.text : "")) await log.write(stream, line);
        } else if (event.kind === "keepalive.ticked") {
          lastKeepalive = event;
          if (Date.now() - log.lastWriteAt >= settings.statusIntervalMs) await log.status(keepaliveText(event));
        } else {
          const line = statusLineFor(event);
          if (line) await log.status(line.text, line.stream);
        }
      },
      onInterrupted: async (error, attempt, lastSeq) => {
        reconnecting = true;
        if (attempt === 1 || attempt % 20 === 0) {
          await log.status(`event stream interrupted (${(error as Error).message}); reconnecting after seq ${lastSeq}`, "stderr");
        }
      },
      onResumed: async (lastSeq) => {
        reconnecting = false;
        await log.status(`event stream resumed after seq ${lastSeq}`);
      },
    });
  } catch (error) {
    const failure = error instanceof HandlerError
      ? adapterFailure(ErrorCode.LOG_DELIVERY_FAILED, `passing the run's output to Paperclip failed: ${error.message}; the sidecar run ${runId} goes on and the next run for this task adopts it`)
      : failureFor(error, "following the run");
    await log.status(failure.errorMessage ?? "", "stderr").catch(() => undefined);
    return failure;
  } finally {
    ticker.stop();
    cancel.stop();
    if (graceTimer) clearTimeout(graceTimer);
    stop.abort();
  }

  const result = await conclude(client, runId, outcome, cancel.reason, settings, ctx.config ?? {});
  if (result.errorMessage && outcome.kind !== "finished") {
    await log.status(result.errorMessage, "stderr").catch(() => undefined);
  }
  await log.drain();
  return result;
}

async function conclude(
  client: SidecarClient,
  runId: string,
  outcome: FollowOutcome,
  cancelReason: string | null,
  settings: AdapterSettings,
  config: Record<string, unknown>,
): Promise<AdapterExecutionResult> {
  switch (outcome.kind) {
    case "finished": {
      try {
        const result = await readResult(client, runId);
        const cwd = typeof config.cwd === "string" && config.cwd.trim() ? config.cwd.trim() : undefined;
        return toExecutionResult(result, { cwd });
      } catch (error) {
        return fromFinishedEvent(outcome.event, (error as Error).message);
      }
    }
    case "stopped":
      return adapterFailure(ErrorCode.CANCELLED,
        `Run cancelled (${cancelReason ?? "stopped"}); the sidecar did not report the run's end within ${settings.cancelGraceMs / 1000}s`);
    case "missing":
      return adapterFailure(ErrorCode.SIDECAR_RUN_MISSING, `the sidecar no longer knows run ${runId}: ${outcome.error.message}`);
    case "unreachable":
      if (cancelReason !== null) {
        return adapterFailure(ErrorCode.CANCELLED, `Run cancelled (${cancelReason}); the sidecar could not be reached to confirm it`);
      }
      return adapterFailure(ErrorCode.SIDECAR_UNREACHABLE,
        `lost contact with the sidecar for ${settings.reconnectWindowMs / 1000}s while following run ${runId} (${(outcome.error as Error).message}); its Job may still be running, and the next run for this task adopts it`);
  }
}

/** `GET …/result`, retried briefly (the sidecar may be restarting right after the end). */
async function readResult(client: SidecarClient, runId: string) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.getResult(runId);
    } catch (error) {
      const retry = isTransient(error) || (error instanceof SidecarApiError && error.code === RUN_NOT_TERMINAL);
      if (!retry || attempt >= RESULT_ATTEMPTS) throw error;
      await sleep(RESULT_RETRY_MS);
    }
  }
}

/** Send the cancel, retrying while the sidecar cannot be reached, until it is recorded. */
async function sendCancel(client: SidecarClient, runId: string, reason: string, log: RunLog, stop: AbortSignal): Promise<void> {
  await log.status(`cancelling: ${reason}`).catch(() => undefined);
  while (!stop.aborted) {
    try {
      await client.cancelRun(runId, reason, stop);
      return;
    } catch (error) {
      if (stop.aborted) return;
      if (!isTransient(error)) {
        await log.status(`the sidecar refused the cancel: ${(error as Error).message}`, "stderr").catch(() => undefined);
        return;
      }
      await sleep(CANCEL_RETRY_MS, undefined, { signal: stop }).catch(() => undefined);
    }
  }
}

function paperclipPoll(ctx: AdapterExecutionContext, settings: AdapterSettings): PaperclipPoll | null {
  if (!settings.paperclipApiUrl || !ctx.authToken || settings.cancelPollMs <= 0) return null;
  return { apiUrl: settings.paperclipApiUrl, authToken: ctx.authToken, runId: ctx.runId, intervalMs: settings.cancelPollMs };
}
