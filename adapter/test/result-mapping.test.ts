/** From the sidecar's result to Paperclip's execution result. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { fromFinishedEvent, toExecutionResult, usageOf } from "../src/result-mapping.js";
import type { RunFinishedEvent, RunResult } from "../src/wire.js";

function result(fields: Partial<RunResult>): RunResult {
  return {
    runId: "r", phase: "succeeded", exitCode: 0, signal: null, timedOut: false, errorCode: null, errorMessage: null,
    sessionId: "s-1", model: "m", usage: {}, costUsd: null, summary: null, resultJson: null, clearSession: false, ...fields,
  };
}

describe("toExecutionResult", () => {
  it("keeps the session (with the agent's cwd) on success", () => {
    const mapped = toExecutionResult(result({}), { cwd: "/paperclip/work" });
    assert.equal(mapped.errorCode, null);
    assert.deepEqual(mapped.sessionParams, { sessionId: "s-1", cwd: "/paperclip/work" });
    assert.equal(mapped.sessionDisplayId, "s-1");
  });

  it("drops the session when the sidecar says to clear it", () => {
    const mapped = toExecutionResult(result({ phase: "failed", exitCode: 1, errorCode: "max_turns_exhausted", errorMessage: "max turns", clearSession: true }));
    assert.equal(mapped.clearSession, true);
    assert.equal(mapped.sessionId, null);
    assert.equal(mapped.sessionParams, null);
    assert.equal(mapped.errorCode, "max_turns_exhausted");
  });

  it("derives the error family Paperclip's retry logic keys on", () => {
    assert.equal(toExecutionResult(result({ phase: "failed", errorCode: "claude_transient_upstream", errorMessage: "429" })).errorFamily, "transient_upstream");
    assert.equal(toExecutionResult(result({ phase: "failed", errorCode: "claude_refusal", errorMessage: "no" })).errorFamily, "model_refusal");
    assert.equal(toExecutionResult(result({ phase: "failed", errorCode: "timeout", errorMessage: "late", timedOut: true })).errorFamily, undefined);
  });

  it("never lets a run that did not succeed look successful", () => {
    for (const phase of ["failed", "cancelled", "lost"] as const) {
      const mapped = toExecutionResult(result({ phase, exitCode: 0 }));
      assert.ok(mapped.errorCode, phase);
      assert.ok(mapped.errorMessage, phase);
    }
    assert.equal(toExecutionResult(result({ phase: "cancelled", exitCode: null })).errorCode, "cancelled");
  });

  it("names the signal that ended Claude", () => {
    assert.equal(toExecutionResult(result({ phase: "failed", signal: 9 })).signal, "SIGKILL");
    assert.equal(toExecutionResult(result({ phase: "failed", signal: 999 })).signal, "999");
  });
});

describe("usageOf", () => {
  it("reads Claude's usage and the sidecar's normalised spelling", () => {
    assert.deepEqual(usageOf({ input_tokens: 10, cache_read_input_tokens: 3, output_tokens: 5, service_tier: "standard" }), {
      inputTokens: 10, outputTokens: 5, cachedInputTokens: 3,
    });
    assert.deepEqual(usageOf({ input_tokens: 10, cached_input_tokens: 4, output_tokens: 5 }), {
      inputTokens: 10, outputTokens: 5, cachedInputTokens: 4,
    });
    assert.equal(usageOf({}), undefined);
  });
});

describe("fromFinishedEvent", () => {
  it("still reports how the run ended when its result cannot be read", () => {
    const event: RunFinishedEvent = { seq: 9, runId: "r", ts: 1, kind: "run.finished", phase: "succeeded", errorCode: "", errorMessage: "", exitCode: 0 };
    const mapped = fromFinishedEvent(event, "HTTP 500");
    assert.equal(mapped.exitCode, 0);
    assert.match(mapped.errorMessage ?? "", /result could not be read: HTTP 500/);
    const timedOut = fromFinishedEvent({ ...event, phase: "failed", errorCode: "timeout", errorMessage: "Timed out", exitCode: null }, "x");
    assert.equal(timedOut.timedOut, true);
    assert.equal(timedOut.errorCode, "timeout");
  });
});
