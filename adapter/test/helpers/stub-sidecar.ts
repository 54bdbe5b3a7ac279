/**
 * A scriptable stand-in for the sidecar's `/v1` API on a Unix socket, for fast adapter tests.
 *
 * Runs are driven by the test: `emit` appends events (with a global seq, like the real event
 * log), `finish` ends a run with a result. Event streams send what exists after `after`, then wait
 * for more, and end after `run.finished`, as the real daemon's do. `dropStreams` cuts every open
 * stream mid-answer, and every request is recorded for assertions.
 */

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import type { RunRequestBody, RunResult, RunState, SidecarEvent } from "../../src/wire.js";

export interface StubRun {
  body: RunRequestBody;
  state: RunState;
  events: SidecarEvent[];
  result: RunResult | null;
  cancels: string[];
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: unknown;
}

type Listener = () => void;

export class StubSidecar {
  readonly dir = mkdtempSync(path.join(tmpdir(), "pcs-stub-"));
  readonly socketPath = path.join(this.dir, "api.sock");
  readonly requests: RecordedRequest[] = [];
  readonly runs = new Map<string, StubRun>();
  /** `after` of every events request, in order. */
  readonly streamAfters: number[] = [];
  health: Record<string, unknown> = {
    ok: true, version: "0.1.0-stub", db: { ok: true, detail: "ok" }, cluster: { ok: true, detail: "https://k8s" },
    activeRuns: 0, lastSeq: 0, uptimeSec: 1,
  };
  apiVersion = "v1";
  /** Answer the next POST /v1/runs with this error instead (then clear it). */
  nextCreateError: { status: number; code: string; message: string; field?: string } | null = null;
  /** Misbehave: send every stream from the run's first event, whatever `after` says. */
  ignoreAfter = false;
  /** What a cancel does: by default the run ends `cancelled`. */
  onCancel: (run: StubRun, reason: string) => void = (run) => this.finish(run.state.runId, { phase: "cancelled", errorCode: "cancelled", errorMessage: "cancelled by request" });

  private seq = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<http.ServerResponse>();
  private listeners: Listener[] = [];

  constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Append an event to a run (seq assigned here) and wake its streams. */
  emit(runId: string, kind: string, fields: Record<string, unknown> = {}): SidecarEvent {
    const run = this.run(runId);
    this.seq += 1;
    const event: SidecarEvent = { seq: this.seq, runId, ts: Date.now() / 1000, kind, ...fields };
    run.events.push(event);
    run.state.lastSeq = this.seq;
    if (kind === "log.chunk") run.state.outputLines += 1;
    this.notify();
    return event;
  }

  /** Append each line as its own `log.chunk` event. */
  emitLines(runId: string, lines: string[], stream = "stdout"): void {
    for (const text of lines) this.emit(runId, "log.chunk", { stream, text, lines: 1, nbytes: Buffer.byteLength(text) });
  }

  /** End a run: store its result and append `run.finished`. */
  finish(runId: string, result: Partial<RunResult> & { phase: RunResult["phase"] }): void {
    const run = this.run(runId);
    run.result = {
      runId, exitCode: null, signal: null, timedOut: false, errorCode: null, errorMessage: null, sessionId: null,
      model: null, usage: {}, costUsd: null, summary: null, resultJson: null, clearSession: false, ...result,
    };
    run.state.phase = result.phase;
    run.state.exitCode = run.result.exitCode;
    this.emit(runId, "run.finished", {
      phase: result.phase, errorCode: result.errorCode ?? "", errorMessage: result.errorMessage ?? "", exitCode: result.exitCode ?? null,
    });
  }

  /** Cut every open event stream mid-answer (as a crashed connection would). */
  dropStreams(): number {
    const count = this.streams.size;
    for (const stream of this.streams) stream.socket?.destroy();
    this.streams.clear();
    return count;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Resolve once `test()` holds (checked whenever the stub changes); bounded. */
  until(test: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!test()) return false;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve();
        return true;
      };
      const listener = (): void => void check();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`stub sidecar: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      if (!check()) this.listeners.push(listener);
    });
  }

  private run(runId: string): StubRun {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`stub sidecar: no run ${runId}`);
    return run;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const body = raw ? (JSON.parse(raw) as unknown) : undefined;
    this.requests.push({ method: req.method ?? "", url: req.url ?? "", body });
    this.notify();
    const url = new URL(req.url ?? "/", "http://stub");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const run = parts[1] === "runs" && parts[2] ? this.runs.get(parts[2]) : undefined;

    if (req.method === "GET" && url.pathname === "/v1/version") return json(res, 200, { version: "0.1.0-stub", api: this.apiVersion, eventSchema: 1 });
    if (req.method === "GET" && url.pathname === "/v1/healthz") return json(res, this.health.ok ? 200 : 503, this.health);
    if (req.method === "POST" && url.pathname === "/v1/runs") return this.create(res, body as RunRequestBody);
    if (parts[1] === "runs" && parts[2] && !run) return error(res, 404, "run_not_found", `no run '${parts[2]}'`, "runId");
    if (!run) return error(res, 404, "not_found", `no such endpoint: ${url.pathname}`);
    if (req.method === "GET" && parts.length === 3) return json(res, 200, { run: run.state });
    if (req.method === "GET" && parts[3] === "result") {
      return run.result ? json(res, 200, run.result) : error(res, 409, "run_not_terminal", `run is ${run.state.phase}`, "runId");
    }
    if (req.method === "POST" && parts[3] === "cancel") {
      const reason = typeof (body as { reason?: unknown })?.reason === "string" ? (body as { reason: string }).reason : "";
      run.cancels.push(reason);
      run.state.cancelRequested = true;
      json(res, 200, { run: run.state });
      if (!run.result) this.onCancel(run, reason);
      return undefined;
    }
    if (req.method === "GET" && parts[3] === "events") return this.stream(req, res, run, Number(url.searchParams.get("after") ?? "0"));
    return error(res, 405, "method_not_allowed", `${req.method} not allowed`);
  }

  private create(res: http.ServerResponse, body: RunRequestBody): void {
    if (this.nextCreateError) {
      const { status, code, message, field } = this.nextCreateError;
      this.nextCreateError = null;
      return error(res, status, code, message, field);
    }
    const existing = this.runs.get(body.runId);
    if (existing) {
      if (JSON.stringify(existing.body) !== JSON.stringify(body)) {
        return error(res, 409, "run_conflict", `run '${body.runId}' already exists with a different request`, "runId");
      }
      return json(res, 200, { run: existing.state });
    }
    const now = new Date().toISOString();
    const state: RunState = {
      runId: body.runId, agentId: body.agent.id, taskKey: body.taskKey ?? "", sessionId: body.sessionId ?? "",
      phase: "pending", jobName: `ac-${body.agent.id}-${body.runId}`, namespace: "agents", podName: "",
      createdAt: now, updatedAt: now, lastOutputAt: null, lastKeepaliveAt: null, exitCode: null, errorCode: null,
      errorMessage: null, lastSeq: 0, outputLines: 0, outputBytes: 0, gaps: 0, reconnects: 0, cancelRequested: false,
    };
    this.runs.set(body.runId, { body, state, events: [], result: null, cancels: [] });
    this.emit(body.runId, "run.requested", { agentId: body.agent.id });
    return json(res, 201, { run: state });
  }

  private stream(req: http.IncomingMessage, res: http.ServerResponse, run: StubRun, after: number): void {
    this.streamAfters.push(after);
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    this.streams.add(res);
    let cursor = this.ignoreAfter ? 0 : after;
    const pump = (): void => {
      for (const event of run.events) {
        if (event.seq <= cursor) continue;
        res.write(`${JSON.stringify(event)}\n`);
        cursor = event.seq;
        if (event.kind === "run.finished") {
          finish();
          res.end();
          return;
        }
      }
    };
    const finish = (): void => {
      this.listeners = this.listeners.filter((l) => l !== pump);
      this.streams.delete(res);
    };
    req.socket.on("close", finish);
    this.listeners.push(pump);
    pump();
    this.notify();
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function error(res: http.ServerResponse, status: number, code: string, message: string, field?: string): void {
  json(res, status, { error: { code, message, ...(field ? { field } : {}) } });
}
