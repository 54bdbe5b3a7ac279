/**
 * A Paperclip execution context for tests: records every `onLog`, `onMeta`, `onSpawn` and
 * `onDispatch` call, and lets a test abort the run like Paperclip's cancel would.
 */

import type { AdapterExecutionContext, AdapterInvocationMeta, LogStream } from "../../src/contract.js";
import { STATUS_PREFIX } from "../../src/run-log.js";

export interface LoggedChunk {
  stream: LogStream;
  chunk: string;
  at: number;
}

export class Recorder {
  readonly logs: LoggedChunk[] = [];
  readonly metas: AdapterInvocationMeta[] = [];
  readonly spawns: unknown[] = [];
  dispatches = 0;
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  record(stream: LogStream, chunk: string): void {
    this.logs.push({ stream, chunk, at: Date.now() });
    this.wake();
  }

  /** Claude's own output (every chunk that is not an adapter status line), of one stream or all. */
  transcript(stream?: LogStream): string {
    return this.output(stream).join("");
  }

  output(stream?: LogStream): string[] {
    return this.logs
      .filter((l) => (stream === undefined || l.stream === stream) && !l.chunk.startsWith(STATUS_PREFIX))
      .map((l) => l.chunk);
  }

  /** The adapter's status lines (both streams). */
  statusLines(): string[] {
    return this.logs.filter((l) => l.chunk.startsWith(STATUS_PREFIX)).map((l) => l.chunk);
  }

  /** Resolve once `test()` holds (checked after every recorded call); bounded by `timeoutMs`. */
  until(test: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve();
      }
    }
  }
}

export interface FakeContextOptions {
  runId: string;
  config: Record<string, unknown>;
  agentId?: string;
  taskKey?: string | null;
  sessionId?: string | null;
  adapterConfig?: Record<string, unknown>;
  context?: Record<string, unknown>;
  signal?: AbortSignal;
  authToken?: string;
  /** Make `onLog` fail (to test delivery failures). */
  failLog?: (stream: LogStream, chunk: string) => boolean;
}

export function fakeContext(options: FakeContextOptions): { ctx: AdapterExecutionContext; recorder: Recorder } {
  const recorder = new Recorder();
  const ctx: AdapterExecutionContext = {
    runId: options.runId,
    agent: {
      id: options.agentId ?? "agent-1",
      companyId: "company-1",
      name: "Test Agent",
      adapterType: "claude_k8s_sidecar",
      adapterConfig: options.adapterConfig ?? {},
    },
    runtime: {
      sessionId: options.sessionId ?? null,
      sessionParams: options.sessionId ? { sessionId: options.sessionId } : null,
      sessionDisplayId: options.sessionId ?? null,
      taskKey: options.taskKey === undefined ? "task-1" : options.taskKey,
    },
    config: options.config,
    context: options.context ?? {},
    onLog: async (stream, chunk) => {
      if (options.failLog?.(stream, chunk)) throw new Error("run log store is full");
      recorder.record(stream, chunk);
    },
    onMeta: async (meta) => {
      recorder.metas.push(meta);
    },
    onSpawn: async (meta) => {
      recorder.spawns.push(meta);
    },
    onDispatch: () => {
      recorder.dispatches += 1;
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.authToken ? { authToken: options.authToken } : {}),
  };
  return { ctx, recorder };
}
