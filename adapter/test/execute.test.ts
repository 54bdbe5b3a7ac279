/**
 * `execute` against the stub sidecar: the whole adapter path (request, onMeta, event follow,
 * onLog, status lines, cancel, adoption, errors) with the sidecar's behaviour scripted per test.
 */

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { readAdapterSettings } from "../src/adapter-config.js";
import type { AdapterExecutionResult } from "../src/contract.js";
import { execute } from "../src/execute.js";
import { buildRunRequest } from "../src/run-request.js";
import { SidecarClient } from "../src/sidecar-client.js";
import { fakeContext, type FakeContextOptions } from "./helpers/fake-context.js";
import { StubSidecar } from "./helpers/stub-sidecar.js";
import { claudeToolRun, fixtureText } from "./helpers/transcripts.js";

const SESSION = "ffe9d119-b1d3-43f4-ab2a-b298f4e369b7";
let stub: StubSidecar;
let runCounter = 0;

function options(overrides: Partial<FakeContextOptions> = {}): FakeContextOptions {
  runCounter += 1;
  const { config, ...rest } = overrides;
  return { runId: `run-${runCounter}`, ...rest, config: { socketPath: stub.socketPath, statusIntervalSec: 30, ...config } };
}

/** Wait until the stub has the run (the adapter has posted it). */
async function accepted(runId: string): Promise<void> {
  await stub.until(() => stub.runs.has(runId), 10_000, `run ${runId} to be posted`);
}

/** Poll a condition the stub does not see (bounded; for state outside the sidecar). */
async function waitFor(test: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function succeed(runId: string): void {
  stub.finish(runId, {
    phase: "succeeded", exitCode: 0, sessionId: SESSION, model: "claude-opus-4-8", costUsd: 0.0021,
    usage: { input_tokens: 24, cache_read_input_tokens: 7, output_tokens: 11 }, summary: "hi",
    resultJson: { type: "result", subtype: "success", result: "hi" },
  });
}

beforeEach(async () => {
  stub = await new StubSidecar().start();
});

afterEach(async () => {
  await stub.close();
});

describe("execute against the sidecar", () => {
  it("passes each output line to onLog once, exactly as printed, and returns the mapped result", async () => {
    const lines = claudeToolRun();
    const { ctx, recorder } = fakeContext(options());
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emit(ctx.runId, "job.created", { jobName: "ac-job", namespace: "agents", adopted: false });
    stub.emit(ctx.runId, "pod.running", { podName: "ac-job-x1" });
    // One event may carry several lines: they still reach onLog one per call.
    stub.emit(ctx.runId, "log.chunk", { stream: "stdout", text: lines.slice(0, 2).join("") });
    stub.emitLines(ctx.runId, lines.slice(2));
    succeed(ctx.runId);
    const result = await running;

    assert.deepEqual(recorder.output(), lines);
    assert.equal(recorder.transcript(), fixtureText("claude-tool-run.jsonl"));
    assert.ok(recorder.statusLines().some((l) => l.includes("created Job ac-job in namespace agents")));
    assert.ok(recorder.statusLines().some((l) => l.includes("pod ac-job-x1 running")));
    assert.equal(recorder.metas.length, 1);
    assert.equal(recorder.metas[0]?.adapterType, "claude_k8s_sidecar");
    assert.equal(recorder.spawns.length, 0, "never reports a pid: there is no local process");
    assert.equal(recorder.dispatches, 1);
    assert.deepEqual(result, {
      exitCode: 0, signal: null, timedOut: false, errorCode: null, errorMessage: null,
      sessionId: SESSION, sessionParams: { sessionId: SESSION }, sessionDisplayId: SESSION,
      provider: "anthropic", biller: "anthropic", model: "claude-opus-4-8", costUsd: 0.0021,
      resultJson: { type: "result", subtype: "success", result: "hi" }, summary: "hi", clearSession: false,
      usage: { inputTokens: 24, outputTokens: 11, cachedInputTokens: 7 },
    } satisfies AdapterExecutionResult);
    const posted = stub.runs.get(ctx.runId)?.body;
    assert.equal(posted?.taskKey, "task-1");
    assert.deepEqual(posted?.agent, { id: "agent-1", name: "Test Agent", companyId: "company-1" });
  });

  it("reconnects after a dropped stream with the last seq it handled: nothing twice, nothing lost", async () => {
    const lines = claudeToolRun();
    const { ctx, recorder } = fakeContext(options());
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emitLines(ctx.runId, lines.slice(0, 3));
    await recorder.until(() => recorder.output().length === 3, 10_000, "the first three lines");
    assert.equal(stub.dropStreams(), 1);
    stub.emitLines(ctx.runId, lines.slice(3, 5)); // printed while the adapter is disconnected
    await recorder.until(() => recorder.output().length === 5, 10_000, "the lines printed during the drop");
    await stub.until(() => stub.openStreams === 1, 10_000, "the stream to be reopened");
    stub.dropStreams();
    stub.emitLines(ctx.runId, lines.slice(5));
    succeed(ctx.runId);
    const result = await running;

    assert.equal(result.errorCode, null);
    assert.deepEqual(recorder.output(), lines);
    assert.equal(stub.streamAfters[0], 0);
    assert.equal(stub.streamAfters.length, 3);
    const seqOfLine3 = stub.runs.get(ctx.runId)?.events.filter((e) => e.kind === "log.chunk")[2]?.seq;
    assert.equal(stub.streamAfters[1], seqOfLine3, "the first reconnect resumes after the last line handled");
    assert.ok((stub.streamAfters[2] ?? 0) > (stub.streamAfters[1] ?? 0));
    assert.equal(recorder.statusLines().filter((l) => l.includes("event stream interrupted")).length, 2);
  });

  it("drops events it has already handled even when a stream repeats them", async () => {
    stub.ignoreAfter = true;
    const lines = claudeToolRun();
    const { ctx, recorder } = fakeContext(options());
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emitLines(ctx.runId, lines.slice(0, 4));
    await recorder.until(() => recorder.output().length === 4, 10_000, "four lines");
    stub.dropStreams();
    stub.emitLines(ctx.runId, lines.slice(4));
    succeed(ctx.runId);
    await running;
    assert.deepEqual(recorder.output(), lines);
  });

  it("writes a status line at least every interval while the run is quiet, with or without keepalives", async () => {
    const intervalMs = 200;
    const { ctx, recorder } = fakeContext(options({ config: { statusIntervalSec: intervalMs / 1000 } }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    const quietFrom = recorder.logs.length;
    // No events at all: the adapter's own ticker must keep the run log moving.
    await recorder.until(() => recorder.logs.length - quietFrom >= 4, 10_000, "four quiet-run status lines");
    stub.emit(ctx.runId, "keepalive.ticked", { silentFor: 42.4, jobState: "active" });
    await recorder.until(() => recorder.statusLines().some((l) => l.includes("job active")), 10_000, "the keepalive line");
    succeed(ctx.runId);
    await running;

    const quiet = recorder.logs.slice(quietFrom - 1);
    const gaps = quiet.slice(1).map((entry, i) => entry.at - (quiet[i]?.at ?? entry.at));
    // The ticker checks four times per interval: the longest silence is 1.25 intervals, plus slack.
    assert.ok(Math.max(...gaps) <= intervalMs * 1.25 + 300, `gaps between onLog calls: ${gaps.join(", ")} ms`);
    assert.ok(recorder.statusLines().some((l) => /run run-\d+ active, no output for \d+s/.test(l)));
    assert.ok(recorder.statusLines().some((l) => l.includes("keepalive: job active, no output for 42s")));
  });

  it("cancels through ctx.signal: sends the sidecar's cancel and settles when the run has ended", async () => {
    const abort = new AbortController();
    const { ctx, recorder } = fakeContext(options({ signal: abort.signal }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emitLines(ctx.runId, claudeToolRun().slice(0, 2));
    await recorder.until(() => recorder.output().length === 2, 10_000, "two lines");
    abort.abort();
    const result = await running;

    assert.equal(result.errorCode, "cancelled");
    assert.equal(result.exitCode, null);
    assert.deepEqual(stub.runs.get(ctx.runId)?.cancels, ["Paperclip cancelled the run"]);
    assert.ok(recorder.statusLines().some((l) => l.includes("cancelling: Paperclip cancelled the run")));
  });

  it("a run cancelled before it starts is never posted", async () => {
    const abort = new AbortController();
    abort.abort();
    const { ctx } = fakeContext(options({ signal: abort.signal }));
    const result = await execute(ctx);
    assert.equal(result.errorCode, "cancelled");
    assert.equal(stub.requests.length, 0);
  });

  it("cancels when Paperclip's run status turns cancelled (servers without a cancel signal)", async () => {
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    let status = "running";
    const paperclip = http.createServer((req, res) => {
      seen.push({ url: req.url ?? "", auth: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "x", status }));
    });
    await new Promise<void>((resolve) => paperclip.listen(0, "127.0.0.1", resolve));
    let result: AdapterExecutionResult;
    const { ctx } = fakeContext(options({
      authToken: "run-jwt",
      config: { paperclipApiUrl: `http://127.0.0.1:${(paperclip.address() as AddressInfo).port}/`, cancelPollSec: 0.05 },
    }));
    try {
      const running = execute(ctx, { env: {} });
      await accepted(ctx.runId);
      await waitFor(() => seen.length >= 2, "two polls");
      assert.equal(stub.runs.get(ctx.runId)?.cancels.length, 0, "a running status cancels nothing");
      status = "cancelled";
      result = await running;
    } finally {
      paperclip.closeAllConnections();
      paperclip.close();
    }

    assert.equal(result.errorCode, "cancelled");
    assert.equal(stub.runs.get(ctx.runId)?.cancels.length, 1);
    assert.equal(seen[0]?.url, `/api/heartbeat-runs/${ctx.runId}`);
    assert.equal(seen[0]?.auth, "Bearer run-jwt");
  });

  it("settles a cancel the sidecar never confirms after cancelGraceSec", async () => {
    stub.onCancel = () => undefined;
    const abort = new AbortController();
    const { ctx } = fakeContext(options({ signal: abort.signal, config: { cancelGraceSec: 0.2 } }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    abort.abort("operator stop");
    const result = await running;
    assert.equal(result.errorCode, "cancelled");
    assert.match(result.errorMessage ?? "", /operator stop.*did not report the run's end within 0.2s/);
    assert.deepEqual(stub.runs.get(ctx.runId)?.cancels, ["Paperclip cancelled the run: operator stop"]);
  });

  it("after a Paperclip restart, posting the same run again follows the existing run from its start", async () => {
    const lines = claudeToolRun();
    const opts = options();
    // The first Paperclip process posted the run and died; its lines are in the sidecar.
    const { ctx: first } = fakeContext(opts);
    const { body } = await buildRunRequest(first, readAdapterSettings(first.config));
    await new SidecarClient(stub.socketPath).createRun(body);
    stub.emitLines(opts.runId, lines.slice(0, 3));

    const { ctx, recorder } = fakeContext(opts);
    const running = execute(ctx);
    await recorder.until(() => recorder.output().length === 3, 10_000, "the earlier lines");
    stub.emitLines(opts.runId, lines.slice(3));
    succeed(opts.runId);
    const result = await running;

    assert.equal(result.errorCode, null);
    assert.equal(stub.runs.size, 1, "no second run");
    assert.deepEqual(recorder.output(), lines);
    assert.ok(recorder.statusLines().some((l) => l.includes("already has run")));
    assert.match(recorder.metas[0]?.commandNotes?.[1] ?? "", /\(existing, phase pending/);
  });

  it("follows the existing run when the same run id comes back with another request (409)", async () => {
    const opts = options();
    const { ctx: first } = fakeContext({ ...opts, context: { paperclipTaskMarkdown: "old task text" } });
    const { body } = await buildRunRequest(first, readAdapterSettings(first.config));
    await new SidecarClient(stub.socketPath).createRun(body);

    const { ctx, recorder } = fakeContext({ ...opts, context: { paperclipTaskMarkdown: "new task text" } });
    const running = execute(ctx);
    await stub.until(() => stub.requests.some((r) => r.method === "GET" && r.url === `/v1/runs/${opts.runId}`), 10_000, "the run lookup");
    succeed(opts.runId);
    const result = await running;
    assert.equal(result.errorCode, null);
    assert.equal(stub.runs.size, 1);
    assert.ok(recorder.statusLines().some((l) => l.includes("from an earlier request with other details")));
  });

  it("reports sidecar_unreachable at once when nothing listens on the socket", async () => {
    const socketPath = `${stub.dir}/nobody.sock`;
    const { ctx, recorder } = fakeContext(options({ config: { socketPath, sidecarStartRetrySec: 0 } }));
    const result = await execute(ctx);
    assert.equal(result.errorCode, "sidecar_unreachable");
    assert.equal(result.exitCode, null);
    assert.match(result.errorMessage ?? "", new RegExp(`cannot connect to the sidecar at ${socketPath}: ENOENT`));
    assert.equal(recorder.metas.length, 0);
    assert.ok(recorder.logs.some((l) => l.stream === "stderr" && l.chunk.includes("cannot connect")));
  });

  it("retries starting the run while the sidecar comes up", async () => {
    const late = new StubSidecar();
    const { ctx, recorder } = fakeContext(options({ config: { socketPath: late.socketPath, sidecarStartRetrySec: 20 } }));
    let result: AdapterExecutionResult;
    try {
      const running = execute(ctx);
      await recorder.until(() => recorder.statusLines().some((l) => l.includes("not answering")), 10_000, "the retry notice");
      await late.start();
      await late.until(() => late.runs.has(ctx.runId), 10_000, "the run to be posted");
      late.finish(ctx.runId, { phase: "succeeded", exitCode: 0 });
      result = await running;
    } finally {
      await late.close();
    }
    assert.equal(result.errorCode, null);
    assert.equal(result.exitCode, 0);
  });

  it("turns a refused request into an error code naming the field", async () => {
    stub.nextCreateError = { status: 400, code: "invalid_request", message: "claude.maxTurns: expected an integer >= 0, got -1", field: "claude.maxTurns" };
    const { ctx } = fakeContext(options({ config: { maxTurnsPerRun: -1 } }));
    const result = await execute(ctx);
    assert.equal(result.errorCode, "sidecar_invalid_request");
    assert.match(result.errorMessage ?? "", /claude\.maxTurns: expected an integer >= 0, got -1 \[claude\.maxTurns\]/);
  });

  it("keeps the sidecar's own k8s_* codes", async () => {
    stub.nextCreateError = { status: 400, code: "k8s_agent_id_invalid", message: "agent.id: cannot be a label", field: "agent.id" };
    const { ctx } = fakeContext(options());
    assert.equal((await execute(ctx)).errorCode, "k8s_agent_id_invalid");
  });

  it("reports sidecar_unreachable when the sidecar stays away longer than the reconnect window", async () => {
    const { ctx, recorder } = fakeContext(options({ config: { sidecarReconnectWindowSec: 0.3 } }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emitLines(ctx.runId, claudeToolRun().slice(0, 1));
    await recorder.until(() => recorder.output().length === 1, 10_000, "one line");
    await stub.close();
    const result = await running;
    assert.equal(result.errorCode, "sidecar_unreachable");
    assert.match(result.errorMessage ?? "", /lost contact with the sidecar for 0.3s.*next run for this task adopts it/);
    stub = await new StubSidecar().start(); // for afterEach
  });

  it("reports a failing onLog as sidecar_log_delivery_failed and leaves the sidecar run alone", async () => {
    const { ctx } = fakeContext(options({ failLog: (_stream, chunk) => chunk.startsWith("{") }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.emitLines(ctx.runId, claudeToolRun().slice(0, 1));
    const result = await running;
    assert.equal(result.errorCode, "sidecar_log_delivery_failed");
    assert.match(result.errorMessage ?? "", /run log store is full/);
    assert.deepEqual(stub.runs.get(ctx.runId)?.cancels, []);
  });

  it("maps a failed run with no error message to a failure Paperclip cannot mistake for success", async () => {
    const { ctx } = fakeContext(options());
    const running = execute(ctx);
    await accepted(ctx.runId);
    stub.finish(ctx.runId, { phase: "lost", exitCode: 0 });
    const result = await running;
    assert.equal(result.errorCode, "sidecar_run_lost");
    assert.ok(result.errorMessage);
  });

  it("rejects an unusable adapter config before contacting the sidecar", async () => {
    const { ctx, recorder } = fakeContext(options({ config: { secretEnv: "API_KEY=Not_A_Secret_Name/key" } }));
    const result = await execute(ctx);
    assert.equal(result.errorCode, "sidecar_config_invalid");
    assert.match(result.errorMessage ?? "", /secretEnv line 1: expected secret-name\/key with a lowercase DNS-1123 Secret name/);
    assert.equal(stub.requests.length, 0);
    assert.equal(recorder.logs[0]?.stream, "stderr");
  });

  it("sends secrets by reference only: secret-bound env values never leave Paperclip", async () => {
    const { ctx, recorder } = fakeContext(options({
      config: {
        env: { PLAIN_MODE: "ci", GITHUB_TOKEN: "ghp_resolved-secret-value" },
        secretEnv: "ANTHROPIC_API_KEY=anthropic-creds/api-key",
      },
      adapterConfig: { env: { PLAIN_MODE: { type: "plain", value: "ci" }, GITHUB_TOKEN: { type: "secret_ref", secretId: "s-1" } } },
    }));
    const running = execute(ctx);
    await accepted(ctx.runId);
    succeed(ctx.runId);
    await running;
    const posted = stub.requests.find((r) => r.method === "POST" && r.url === "/v1/runs");
    assert.ok(posted);
    assert.deepEqual((posted.body as { env: unknown }).env, { PLAIN_MODE: "ci" });
    assert.deepEqual((posted.body as { secretEnv: unknown }).secretEnv, { ANTHROPIC_API_KEY: { secret: "anthropic-creds", key: "api-key" } });
    const everything = JSON.stringify([stub.requests, recorder.logs, recorder.metas]);
    assert.ok(!everything.includes("ghp_resolved-secret-value"), "the secret value appears nowhere");
    assert.ok(recorder.statusLines().some((l) => l.includes("not forwarding env GITHUB_TOKEN")));
  });
});
