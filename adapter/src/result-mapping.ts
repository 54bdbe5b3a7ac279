/**
 * From the sidecar's run result to Paperclip's execution result.
 *
 * Also the error results for failures on the adapter's side (`adapterFailure`, `failureFor`).
 *
 * Paperclip calls a run `succeeded` when `exitCode === 0` and there is no `errorMessage`, so every
 * run the sidecar did not finish as `succeeded` gets an error code and message here even if the
 * sidecar left them out. Error codes pass through unchanged (the sidecar uses the spellings
 * Paperclip's retry logic keys on); the error family is derived from them.
 */

import { constants } from "node:os";

import type { AdapterExecutionErrorFamily, AdapterExecutionResult, UsageSummary } from "./contract.js";
import {
  ErrorCode,
  SidecarApiError,
  SidecarConnectionError,
  SidecarProtocolError,
  SidecarUnreachableError,
} from "./errors.js";
import type { RunFinishedEvent, RunResult } from "./wire.js";

const FAMILY_OF: Record<string, AdapterExecutionErrorFamily> = {
  claude_transient_upstream: "transient_upstream",
  claude_refusal: "model_refusal",
};

const SIGNAL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

export interface MappingContext {
  /** The working directory configured for the agent, kept in the session params. */
  cwd?: string | undefined;
}

/** Map a terminal run result. */
export function toExecutionResult(result: RunResult, context: MappingContext = {}): AdapterExecutionResult {
  const succeeded = result.phase === "succeeded";
  const errorCode = result.errorCode || (succeeded ? null : defaultCode(result.phase));
  const errorMessage = result.errorMessage
    || (succeeded ? null : defaultMessage(result.phase, result.exitCode, errorCode));
  const sessionId = result.clearSession ? null : result.sessionId || null;
  const mapped: AdapterExecutionResult = {
    exitCode: result.exitCode ?? null,
    signal: signalName(result.signal),
    timedOut: result.timedOut === true,
    errorCode,
    errorMessage,
    sessionId,
    sessionParams: sessionId ? { sessionId, ...(context.cwd ? { cwd: context.cwd } : {}) } : null,
    sessionDisplayId: sessionId,
    provider: "anthropic",
    biller: "anthropic",
    model: result.model ?? null,
    costUsd: typeof result.costUsd === "number" ? result.costUsd : null,
    resultJson: result.resultJson ?? null,
    summary: result.summary ?? null,
    clearSession: result.clearSession === true,
  };
  const family = errorCode ? FAMILY_OF[errorCode] : undefined;
  if (family) mapped.errorFamily = family;
  const usage = usageOf(result.usage);
  if (usage) mapped.usage = usage;
  return mapped;
}

/**
 * The result when `GET …/result` could not be read after `run.finished`: the finished event
 * still says how the run ended.
 */
export function fromFinishedEvent(event: RunFinishedEvent, why: string): AdapterExecutionResult {
  const succeeded = event.phase === "succeeded";
  const errorCode = event.errorCode || (succeeded ? null : defaultCode(event.phase));
  return {
    exitCode: event.exitCode ?? null,
    signal: null,
    timedOut: event.errorCode === "timeout",
    errorCode,
    errorMessage: event.errorMessage
      || (succeeded ? `the run succeeded but its result could not be read: ${why}` : defaultMessage(event.phase, event.exitCode, errorCode)),
  };
}

/** A failure that happened on the adapter's side (no run result exists). */
export function adapterFailure(errorCode: string, errorMessage: string): AdapterExecutionResult {
  return { exitCode: null, signal: null, timedOut: false, errorCode, errorMessage };
}

/** Token counts from Claude's `usage` (snake_case, as the sidecar passes it on). */
export function usageOf(usage: Record<string, unknown> | null | undefined): UsageSummary | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const count = (...keys: string[]): number | undefined => {
    for (const key of keys) {
      const value = usage[key];
      if (typeof value === "number" && Number.isFinite(value)) return value;
    }
    return undefined;
  };
  const inputTokens = count("input_tokens", "inputTokens");
  const outputTokens = count("output_tokens", "outputTokens");
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const summary: UsageSummary = { inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0 };
  const cached = count("cached_input_tokens", "cache_read_input_tokens", "cachedInputTokens");
  if (cached !== undefined) summary.cachedInputTokens = cached;
  return summary;
}

function signalName(signal: number | null | undefined): string | null {
  if (typeof signal !== "number") return null;
  return SIGNAL_NAMES[signal] ?? String(signal);
}

function defaultCode(phase: string): string {
  return phase === "cancelled" ? ErrorCode.CANCELLED : `sidecar_run_${phase}`;
}

function defaultMessage(phase: string, exitCode: number | null | undefined, errorCode: string | null): string {
  if (phase === "cancelled") return "Run cancelled";
  if (phase === "lost") return "The sidecar lost track of the run's Job";
  const exit = typeof exitCode === "number" ? ` (exit code ${exitCode})` : "";
  return `The run ended ${phase}${exit}${errorCode ? `: ${errorCode}` : ""}`;
}

/** The error result for a failure talking to the sidecar. */
export function failureFor(error: unknown, doing: string): AdapterExecutionResult {
  if (error instanceof SidecarUnreachableError) {
    return adapterFailure(ErrorCode.SIDECAR_UNREACHABLE, `${doing}: ${error.message}`);
  }
  if (error instanceof SidecarConnectionError) {
    return adapterFailure(ErrorCode.SIDECAR_UNREACHABLE, `${doing}: the connection to the sidecar failed: ${error.message}`);
  }
  if (error instanceof SidecarApiError) {
    const field = error.field ? ` [${error.field}]` : "";
    if (error.status >= 500) {
      return adapterFailure(ErrorCode.SIDECAR_ERROR, `${doing}: the sidecar failed (HTTP ${error.status} ${error.code}): ${error.message}`);
    }
    // The sidecar's k8s_* codes are the seed adapter's spellings: keep them; prefix the rest.
    const code = error.code.startsWith("k8s_") ? error.code : `sidecar_${error.code}`;
    return adapterFailure(code, `${doing}: the sidecar refused (${error.code}): ${error.message}${field}`);
  }
  if (error instanceof SidecarProtocolError) {
    return adapterFailure(ErrorCode.SIDECAR_PROTOCOL_ERROR, `${doing}: ${error.message}`);
  }
  return adapterFailure(ErrorCode.SIDECAR_ERROR, `${doing}: ${error instanceof Error ? error.message : String(error)}`);
}
