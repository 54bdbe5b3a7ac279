/**
 * The adapter against the real sidecar: `paperclip-supervisor serve` with the Kubernetes
 * simulator, whose pods run the fake Claude. Each test drives `execute` with a recording
 * context and checks what Paperclip would have received against what the pod really printed.
 */

import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import type { AdapterExecutionContext, AdapterExecutionResult } from "../src/contract.js";
import { testEnvironment } from "../src/environment-test.js";
import { execute } from "../src/execute.js";
import { SidecarClient } from "../src/sidecar-client.js";
import { HEALTH_FIELDS, RUN_RESULT_FIELDS, RUN_STATE_FIELDS, VERSION_FIELDS } from "../src/wire.js";
import { fakeContext, type FakeContextOptions } from "./helpers/fake-context.js";
import { Rig, rigUnavailable, startProcess } from "./helpers/rig.js";
import { CuttingProxy } from "./helpers/socket-proxy.js";

const CHILD = fileURLToPath(new URL("./helpers/execute-child.js", import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const skip = rigUnavailable();

describe("the adapter against the real sidecar and a simulated cluster", { skip: skip ?? false }, () => {
  let rig: Rig;
  let client: SidecarClient;

  before(async () => {
    rig = await new Rig().start();
    client = new SidecarClient(rig.socketPath);
  });

  after(async () => {
    await rig?.stop();
  });

  /** The run's events as the sidecar recorded them (for failure messages). */
  async function timeline(runId: string): Promise<string> {
    const lines: string[] = [];
    for await (const event of client.events(runId, 0)) {
      const { seq, kind, text, runId: _r, ts: _t, ...rest } = event;
      lines.push(`#${seq} ${kind} ${JSON.stringify(rest)}${typeof text === "string" ? ` text=${JSON.stringify(text.slice(0, 80))}` : ""}`);
    }
    return lines.join("\n");
  }

  function context(runId: string, prompt: string, extra: Partial<FakeContextOptions> = {}) {
    return fakeContext({
      runId,
      agentId: `agent-${runId}`,
      ...extra,
      // A failed test leaves no run behind for long: its follower gives up 5 s after the rig stops.
      config: { socketPath: rig.socketPath, promptTemplate: prompt, statusIntervalSec: 1, sidecarReconnectWindowSec: 5, ...extra.config },
    });
  }

  it("runs a heartbeat end to end: onLog receives exactly what the pod printed, one line per call", async () => {
    const { ctx, recorder } = context("e2e-full", "#scenario tool tools=2\nplease fix the bug");
    const result = await execute(ctx);

    assert.equal(result.errorCode, null, `${result.errorMessage}\n${await timeline(ctx.runId)}`);
    assert.equal(result.exitCode, 0);
    assert.match(result.sessionId ?? "", UUID);
    assert.deepEqual(result.sessionParams, { sessionId: result.sessionId });
    assert.ok((result.usage?.inputTokens ?? 0) > 0 && (result.usage?.outputTokens ?? 0) > 0);
    assert.match(result.model ?? "", /^claude-/);
    assert.equal((result.resultJson as { type?: string } | null)?.type, "result");
    const run = await client.getRun(ctx.runId);
    assert.equal(run.phase, "succeeded");
    assert.equal(recorder.transcript(), await rig.printed(run.podName));
    for (const chunk of recorder.output()) assert.match(chunk, /^[^\n]*\n$/, "one whole line per onLog call");
    assert.ok(recorder.output().length >= 8);
    assert.equal(recorder.spawns.length, 0);
    assert.equal(recorder.metas.length, 1);
    assert.ok(recorder.statusLines().some((l) => l.includes(`Job ${run.jobName}`)));
  });

  it("survives event streams cut mid-answer: reconnects after the last seq, no line lost or repeated", async () => {
    const proxy = await new CuttingProxy(rig.socketPath, 6_000, 3).start();
    try {
      const { ctx, recorder } = context("e2e-cuts", "#scenario chatty lines=300 width=80\ntalk a lot", {
        config: { socketPath: proxy.socketPath },
      });
      const result = await execute(ctx);
      assert.equal(result.errorCode, null, result.errorMessage ?? "");
      assert.equal(proxy.cuts, 3, JSON.stringify(recorder.statusLines()));
      const run = await client.getRun(ctx.runId);
      assert.equal(recorder.transcript(), await rig.printed(run.podName));
      assert.equal(recorder.statusLines().filter((l) => l.includes("event stream interrupted")).length, 3);
      // A cut may come before the reopened stream delivered a whole event: "resumed" is said less often.
      assert.ok(recorder.statusLines().some((l) => l.includes("event stream resumed")));
    } finally {
      await proxy.close();
    }
  });

  it("cancels through ctx.signal: the sidecar deletes the Job and the run settles cancelled", async () => {
    const abort = new AbortController();
    const { ctx, recorder } = context("e2e-cancel", "#scenario hang seconds=120\nwait forever", { signal: abort.signal });
    const running = execute(ctx);
    let result: AdapterExecutionResult;
    try {
      // A quiet run shows the sidecar's keepalive ticks as status lines.
      await recorder.until(() => recorder.statusLines().some((l) => l.includes("keepalive: job")), 30_000, "a keepalive status line");
      assert.ok(recorder.output().some((l) => l.includes("\"subtype\":\"init\"")), JSON.stringify(recorder.logs, null, 1));
    } finally {
      abort.abort();
      result = await running;
    }

    assert.equal(result.errorCode, "cancelled");
    assert.equal(result.timedOut, false);
    const run = await client.getRun(ctx.runId);
    assert.equal(run.phase, "cancelled");
    assert.equal(run.cancelRequested, true);
    assert.ok(!(await rig.jobs()).includes(run.jobName), "the Job is gone");
  });

  it("after a Paperclip crash, executing the same run again follows the still-running Job from its start", async () => {
    const options: FakeContextOptions = {
      runId: "e2e-restart",
      agentId: "agent-restart",
      config: { socketPath: rig.socketPath, promptTemplate: "#scenario sleep seconds=3\ntake your time", statusIntervalSec: 1 },
    };
    await crashWhile(fakeContext(options).ctx, (line) => line.includes("\"subtype\":\"init\""));
    const orphan = await client.getRun("e2e-restart");
    assert.ok(!["succeeded", "failed", "cancelled", "lost"].includes(orphan.phase), `the run goes on without Paperclip (${orphan.phase})`);

    const { ctx, recorder } = fakeContext(options);
    const result = await execute(ctx);
    assert.equal(result.errorCode, null, `${result.errorMessage}\n${await timeline("e2e-restart")}`);
    assert.ok(recorder.statusLines().some((l) => l.includes("the sidecar already has run e2e-restart")));
    const run = await client.getRun("e2e-restart");
    assert.equal(run.jobName, orphan.jobName);
    assert.equal(recorder.transcript(), await rig.printed(run.podName));
  });

  it("after a Paperclip crash, the next run for the same agent, task and session adopts the Job instead of starting another", async () => {
    const shared = { agentId: "agent-adopt", taskKey: "task-adopt", config: { socketPath: rig.socketPath, statusIntervalSec: 1 } };
    const first = fakeContext({ ...shared, runId: "e2e-adopt-a", config: { ...shared.config, promptTemplate: "#scenario sleep seconds=4\nlong job" } });
    await crashWhile(first.ctx, (line) => line.includes("\"subtype\":\"init\""));
    const orphan = await client.getRun("e2e-adopt-a");

    // Paperclip reaped the first run as process_lost and retries with a new run id.
    const { ctx, recorder } = fakeContext({ ...shared, runId: "e2e-adopt-b", config: { ...shared.config, promptTemplate: "#scenario happy\ncontinue" } });
    const result = await execute(ctx);
    const why = async () => `\n${await timeline("e2e-adopt-a")}\n---\n${await timeline("e2e-adopt-b")}`;
    assert.equal(result.errorCode, null, `${result.errorMessage}${await why()}`);
    const adopted = await client.getRun("e2e-adopt-b");
    assert.equal(adopted.jobName, orphan.jobName, `the new run took over the orphan's Job${await why()}`);
    assert.ok(recorder.statusLines().some((l) => l.includes(`Job ${orphan.jobName}`) && /adopt|reattach/.test(l)));
    assert.ok(recorder.output().some((l) => l.includes("\"type\":\"result\"")), "the adopted Job's result reached Paperclip");
    const jobs = (await rig.jobs()).filter((name) => name.includes("agent-adopt"));
    assert.ok(jobs.length <= 1, `no second Job: ${jobs.join(", ")}`);
  });

  it("testEnvironment sees the sidecar, its event log and its cluster", async () => {
    const result = await testEnvironment({ companyId: "c", adapterType: "claude_k8s_sidecar", config: { socketPath: rig.socketPath } });
    assert.equal(result.status, "pass", JSON.stringify(result.checks));
    const codes = result.checks.map((c) => c.code);
    for (const code of ["sidecar_reachable", "sidecar_event_log_ok", "sidecar_cluster_ok"]) assert.ok(codes.includes(code), code);
  });

  it("speaks the sidecar's wire format: every field of run, result, health and version", async () => {
    const sorted = (keys: Iterable<string>) => [...keys].sort();
    assert.deepEqual(sorted(Object.keys(await client.getRun("e2e-full"))), sorted(RUN_STATE_FIELDS));
    assert.deepEqual(sorted(Object.keys(await client.getResult("e2e-full"))), sorted(RUN_RESULT_FIELDS));
    const health = await client.health();
    for (const field of HEALTH_FIELDS) assert.ok(field in health, field);
    assert.deepEqual(sorted(Object.keys(await client.version())), sorted(VERSION_FIELDS));
  });

  it("reports sidecar_unreachable with the socket path when the sidecar is down", async () => {
    await rig.daemon?.stop();
    try {
      const { ctx } = context("e2e-down", "#scenario happy\nhello", { config: { sidecarStartRetrySec: 0 } });
      const result: AdapterExecutionResult = await execute(ctx);
      assert.equal(result.errorCode, "sidecar_unreachable");
      assert.match(result.errorMessage ?? "", new RegExp(`cannot connect to the sidecar at ${rig.socketPath}`));
      const env = await testEnvironment({ companyId: "c", adapterType: "claude_k8s_sidecar", config: { socketPath: rig.socketPath } });
      assert.equal(env.status, "fail");
    } finally {
      await rig.startDaemon();
    }
  });
});

/**
 * Run `execute` in a separate process (a Paperclip server) and SIGKILL it once a logged chunk
 * satisfies `when`: the sidecar is left with a live run nobody is following.
 */
async function crashWhile(ctx: AdapterExecutionContext, when: (chunk: string) => boolean): Promise<void> {
  const { onLog: _onLog, onMeta: _onMeta, onSpawn: _onSpawn, onDispatch: _onDispatch, signal: _signal, ...spec } = ctx;
  const child = startProcess(process.execPath, [CHILD, JSON.stringify(spec)]);
  const stdout = child.child.stdout;
  assert.ok(stdout, "the child's stdout is piped");
  const lines = createInterface({ input: stdout });
  const timer = setTimeout(() => void child.kill(), 30_000);
  try {
    for await (const line of lines) {
      const entry = JSON.parse(line) as { chunk?: string; result?: unknown };
      if (entry.result) throw new Error(`the run ended before the crash: ${line}`);
      if (entry.chunk !== undefined && when(entry.chunk)) break;
    }
  } finally {
    clearTimeout(timer);
    await child.kill();
  }
}
