/**
 * A small client for the sidecar's `/v1` API: HTTP/1.1 over its Unix socket, JSON answers and
 * NDJSON event streams, with Node's own `http` module (no runtime dependency).
 *
 * Error handling: a connection that cannot be made raises `SidecarUnreachableError`; one that
 * breaks (or times out) after it was made raises `SidecarConnectionError`; an error answer raises
 * `SidecarApiError` with the sidecar's stable code; anything else the sidecar sends that is not
 * its API raises `SidecarProtocolError`. An aborted `signal` rejects with the signal's reason.
 *
 * Resource handling: every request uses its own connection (`agent: false`), closed when the
 * answer has been read, when an event stream's consumer stops iterating, or on abort.
 */

import http from "node:http";

import {
  SidecarApiError,
  SidecarConnectionError,
  SidecarProtocolError,
  SidecarUnreachableError,
} from "./errors.js";
import { LineBuffer } from "./lines.js";
import type {
  ErrorBody,
  HealthBody,
  RunRequestBody,
  RunResult,
  RunState,
  SidecarEvent,
  VersionBody,
} from "./wire.js";

/** Connection errors that mean "nobody is listening there (or we may not talk to it)". */
const UNREACHABLE = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "EPERM", "ENOTSOCK", "ENOTDIR", "EAGAIN"]);
const MAX_JSON_BYTES = 32 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Give up when the socket is idle this long (0 = never); default 30 s. */
  timeoutMs?: number;
  /** Statuses that carry a normal answer (default: any 2xx). */
  accept?: readonly number[];
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
}

export interface CreatedRun {
  /** True for 201 (a new run), false for 200 (the sidecar already had this runId). */
  created: boolean;
  run: RunState;
}

export class SidecarClient {
  constructor(
    readonly socketPath: string,
    private readonly requestTimeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /** `POST /v1/runs`: start the run, or get the existing one for the same runId. */
  async createRun(body: RunRequestBody, signal?: AbortSignal): Promise<CreatedRun> {
    const answer = await this.requestJson<unknown>("POST", "/v1/runs", { body, signal, accept: [200, 201] });
    return { created: answer.status === 201, run: runOf(answer.body) };
  }

  /** `GET /v1/runs/{id}`. */
  async getRun(runId: string, signal?: AbortSignal): Promise<RunState> {
    const answer = await this.requestJson<unknown>("GET", `/v1/runs/${encodeURIComponent(runId)}`, { signal });
    return runOf(answer.body);
  }

  /** `GET /v1/runs/{id}/result` (the sidecar answers 409 `run_not_terminal` before the end). */
  async getResult(runId: string, signal?: AbortSignal): Promise<RunResult> {
    const answer = await this.requestJson<unknown>(
      "GET", `/v1/runs/${encodeURIComponent(runId)}/result`, { signal });
    const body = answer.body;
    if (!isObject(body) || typeof body.phase !== "string" || typeof body.timedOut !== "boolean") {
      throw new SidecarProtocolError("the sidecar's result has no phase/timedOut fields");
    }
    return body as unknown as RunResult;
  }

  /** `POST /v1/runs/{id}/cancel`: idempotent, answers once the cancel is recorded. */
  async cancelRun(runId: string, reason: string, signal?: AbortSignal): Promise<RunState> {
    const answer = await this.requestJson<unknown>(
      "POST", `/v1/runs/${encodeURIComponent(runId)}/cancel`, { body: { reason }, signal });
    return runOf(answer.body);
  }

  /** `GET /v1/healthz` (a 503 carries the same body, saying what is unhealthy). */
  async health(signal?: AbortSignal): Promise<HealthBody> {
    const answer = await this.requestJson<unknown>("GET", "/v1/healthz", { signal, accept: [200, 503] });
    const body = answer.body;
    if (!isObject(body) || typeof body.ok !== "boolean") {
      throw new SidecarProtocolError("the sidecar's health answer has no `ok` field");
    }
    return body as unknown as HealthBody;
  }

  /** `GET /v1/version`. */
  async version(signal?: AbortSignal): Promise<VersionBody> {
    const answer = await this.requestJson<unknown>("GET", "/v1/version", { signal });
    const body = answer.body;
    if (!isObject(body) || typeof body.api !== "string" || typeof body.version !== "string") {
      throw new SidecarProtocolError("the sidecar's version answer has no `api`/`version` fields");
    }
    return body as unknown as VersionBody;
  }

  /**
   * Follow a run's events after `after` (`GET /v1/runs/{id}/events?after=…&follow=1`).
   *
   * Yields each event as the sidecar sends it and returns when the stream ends cleanly (the
   * sidecar ends it after `run.finished`, or when it stops). A stream cut part-way raises
   * `SidecarConnectionError`; the caller reconnects with the last seq it handled. `onOpen` is
   * called once the sidecar has accepted the stream (before any event arrives).
   */
  async *events(
    runId: string,
    after: number,
    signal?: AbortSignal,
    onOpen?: () => void,
  ): AsyncGenerator<SidecarEvent, void, undefined> {
    const path = `/v1/runs/${encodeURIComponent(runId)}/events?after=${after}&follow=1`;
    const response = await this.open("GET", path, { signal, timeoutMs: 0 });
    try {
      if (response.statusCode !== 200) throw await errorFrom(response);
      onOpen?.();
      response.setEncoding("utf8");
      const buffer = new LineBuffer();
      try {
        for await (const chunk of response as AsyncIterable<string>) {
          for (const line of buffer.push(chunk)) {
            const text = line.trim();
            if (text) yield parseEvent(text);
          }
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw new SidecarConnectionError(`event stream of run ${runId} broke: ${describe(error)}`, { cause: error });
      }
      if (!response.complete || buffer.flush().trim()) {
        throw new SidecarConnectionError(`event stream of run ${runId} was cut mid-answer`);
      }
    } finally {
      response.destroy();
    }
  }

  /** One request with a JSON answer; error answers raise `SidecarApiError`. */
  async requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<JsonAnswer<T>> {
    const response = await this.open(method, path, options);
    const accepted = options.accept ?? [];
    const status = response.statusCode ?? 0;
    const ok = accepted.length ? accepted.includes(status) : status >= 200 && status < 300;
    if (!ok) throw await errorFrom(response);
    const text = await readText(response, options.signal);
    try {
      return { status, body: JSON.parse(text) as T };
    } catch {
      throw new SidecarProtocolError(`${method} ${path}: HTTP ${status} with a body that is not JSON: ${clip(text)}`);
    }
  }

  /** Send a request; resolve with the response once its headers have arrived. */
  private open(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), "utf8");
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let connected = false;
      const headers: Record<string, string | number> = { host: "paperclip-supervisor", accept: "application/json, application/x-ndjson" };
      if (payload) {
        headers["content-type"] = "application/json";
        headers["content-length"] = payload.length;
      }
      const request = http.request({
        socketPath: this.socketPath,
        method,
        path,
        headers,
        agent: false,
        ...(signal ? { signal } : {}),
      });
      request.on("socket", (socket) => {
        // A Unix socket connects at once, or fails: remember which, to tell "down" from "broke".
        socket.once("connect", () => {
          connected = true;
        });
      });
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () => {
          request.destroy(new SidecarConnectionError(`${method} ${path}: no answer within ${timeoutMs / 1000}s`));
        });
      }
      request.on("response", (response) => {
        request.setTimeout(0);
        resolve(response);
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (signal?.aborted) reject(signal.reason);
        else if (error instanceof SidecarConnectionError) reject(error);
        else if (!connected && error.code && UNREACHABLE.has(error.code)) {
          reject(new SidecarUnreachableError(this.socketPath, error.code, { cause: error }));
        } else {
          reject(new SidecarConnectionError(`${method} ${path}: ${describe(error)}`, { cause: error }));
        }
      });
      request.end(payload);
    });
  }
}

async function readText(response: http.IncomingMessage, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) {
        response.destroy();
        throw new SidecarProtocolError(`the sidecar's answer exceeds ${MAX_JSON_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof SidecarProtocolError) throw error;
    if (signal?.aborted) throw signal.reason;
    throw new SidecarConnectionError(`the sidecar's answer was cut: ${describe(error)}`, { cause: error });
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The `SidecarApiError` for an error answer (or a protocol error if it is not one). */
async function errorFrom(response: http.IncomingMessage): Promise<Error> {
  const status = response.statusCode ?? 0;
  let text: string;
  try {
    text = await readText(response);
  } catch (error) {
    return error instanceof Error ? error : new SidecarConnectionError(String(error));
  }
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    const detail = body.error;
    if (isObject(detail) && typeof detail.code === "string" && typeof detail.message === "string") {
      const field = typeof detail.field === "string" ? detail.field : undefined;
      return new SidecarApiError(status, detail.code, detail.message, field);
    }
  } catch {
    // fall through: not the sidecar's error body
  }
  return new SidecarProtocolError(`HTTP ${status} without the sidecar's error body: ${clip(text)}`);
}

function parseEvent(text: string): SidecarEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SidecarProtocolError(`event stream line is not JSON: ${clip(text)}`);
  }
  if (!isObject(value) || typeof value.seq !== "number" || typeof value.kind !== "string") {
    throw new SidecarProtocolError(`event stream line has no seq/kind: ${clip(text)}`);
  }
  return value as SidecarEvent;
}

function runOf(body: unknown): RunState {
  if (!isObject(body) || !isObject(body.run) || typeof body.run.runId !== "string" || typeof body.run.phase !== "string") {
    throw new SidecarProtocolError("the sidecar's answer has no `run` object");
  }
  return body.run as unknown as RunState;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

function clip(text: string, limit = 200): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
