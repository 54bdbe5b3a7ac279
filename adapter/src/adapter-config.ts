/**
 * The adapter's own settings, read from the agent's (resolved) adapter config.
 *
 * Why this module exists: Paperclip hands `execute` and `testEnvironment` one loosely typed
 * config object that mixes Paperclip's keys, the sidecar's per-agent Kubernetes settings and
 * the adapter's own. This module pulls out and checks the adapter's own keys, with one named
 * default each, and raises `ConfigError` naming the key when a value is unusable.
 */

import { ConfigError } from "./errors.js";
import type { SecretKeyRef } from "./wire.js";

export const DEFAULT_SOCKET_PATH = "/run/paperclip-supervisor/api.sock";
/** The server's environment variable naming the socket when an agent's config does not. */
export const SOCKET_ENV = "PAPERCLIP_SUPERVISOR_SOCKET";
/** A status line reaches `onLog` at least this often while a run is quiet. */
export const DEFAULT_STATUS_INTERVAL_SEC = 30;
/**
 * Upper bound for the status interval: Paperclip records output progress at most once a minute
 * and its reaper fails runs whose row is 5 minutes stale, so a quiet run must log within 60 s.
 */
export const MAX_STATUS_INTERVAL_SEC = 60;
/** How long the sidecar may stay unreachable during a run before the run is reported failed. */
export const DEFAULT_RECONNECT_WINDOW_SEC = 300;
/** How long starting a run retries while the sidecar is unreachable (it may be restarting). */
export const DEFAULT_START_RETRY_SEC = 10;
/** After a cancel, how long to wait for the sidecar to report the run ended. */
export const DEFAULT_CANCEL_GRACE_SEC = 60;
/** How often to ask Paperclip whether the run was cancelled (0 = never). */
export const DEFAULT_CANCEL_POLL_SEC = 15;
/** Where the Paperclip server sees the shared workspace volume that Job pods mount. */
export const DEFAULT_SHARED_VOLUME_PATH = "/paperclip";

export interface AdapterSettings {
  socketPath: string;
  statusIntervalMs: number;
  reconnectWindowMs: number;
  startRetryMs: number;
  cancelGraceMs: number;
  cancelPollMs: number;
  /** Paperclip's API base URL for the cancel poll (null: no poll). */
  paperclipApiUrl: string | null;
  sharedVolumePath: string;
  secretEnv: Record<string, SecretKeyRef>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Read and check the adapter's settings.
 *
 * @param config the agent's resolved adapter config (`ctx.config`).
 * @param env the server's environment (`PAPERCLIP_SUPERVISOR_SOCKET`, `PAPERCLIP_API_URL`).
 * @throws ConfigError naming the key and what is expected.
 */
export function readAdapterSettings(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): AdapterSettings {
  const socketPath = optionalString(config, "socketPath") ?? nonBlank(env[SOCKET_ENV]) ?? DEFAULT_SOCKET_PATH;
  if (!socketPath.startsWith("/")) {
    throw new ConfigError("socketPath", `socketPath: expected an absolute path to the sidecar's socket, got ${show(socketPath)}`);
  }
  const statusIntervalSec = seconds(config, "statusIntervalSec", DEFAULT_STATUS_INTERVAL_SEC, { min: 0.01 });
  if (statusIntervalSec > MAX_STATUS_INTERVAL_SEC) {
    throw new ConfigError("statusIntervalSec", `statusIntervalSec: at most ${MAX_STATUS_INTERVAL_SEC} (Paperclip's reaper needs output within a minute), got ${statusIntervalSec}`);
  }
  const apiUrl = optionalString(config, "paperclipApiUrl") ?? nonBlank(env.PAPERCLIP_API_URL);
  if (apiUrl !== undefined && !/^https?:\/\//.test(apiUrl)) {
    throw new ConfigError("paperclipApiUrl", `paperclipApiUrl: expected an http(s) URL, got ${show(apiUrl)}`);
  }
  return {
    socketPath,
    statusIntervalMs: statusIntervalSec * 1000,
    reconnectWindowMs: seconds(config, "sidecarReconnectWindowSec", DEFAULT_RECONNECT_WINDOW_SEC, { min: 0 }) * 1000,
    startRetryMs: seconds(config, "sidecarStartRetrySec", DEFAULT_START_RETRY_SEC, { min: 0 }) * 1000,
    cancelGraceMs: seconds(config, "cancelGraceSec", DEFAULT_CANCEL_GRACE_SEC, { min: 0 }) * 1000,
    cancelPollMs: seconds(config, "cancelPollSec", DEFAULT_CANCEL_POLL_SEC, { min: 0 }) * 1000,
    paperclipApiUrl: apiUrl === undefined ? null : apiUrl.replace(/\/+$/, ""),
    sharedVolumePath: optionalString(config, "sharedVolumePath")
      ?? optionalString(config, "workspaceMountPath") ?? DEFAULT_SHARED_VOLUME_PATH,
    secretEnv: parseSecretEnv(config.secretEnv),
  };
}

/**
 * Parse `secretEnv`: Kubernetes Secret references for the pod's environment.
 *
 * Accepts an object (`{NAME: {secret, key}}` or `{NAME: "secret/key"}`) or text with one
 * `NAME=secret/key` per line (blank lines and `#` comments skipped), as the UI's textarea gives.
 *
 * @throws ConfigError naming the entry that is wrong.
 */
export function parseSecretEnv(value: unknown): Record<string, SecretKeyRef> {
  const refs: Record<string, SecretKeyRef> = {};
  if (value === undefined || value === null || value === "") return refs;
  if (typeof value === "string") {
    value.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const where = `secretEnv line ${index + 1}`;
      const eq = line.indexOf("=");
      if (eq <= 0) {
        throw new ConfigError("secretEnv", `${where}: expected NAME=secret-name/key, got ${show(line)}`);
      }
      addRef(refs, line.slice(0, eq).trim(), line.slice(eq + 1).trim(), where);
    });
    return refs;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError("secretEnv", "secretEnv: expected NAME=secret-name/key lines or an object of {secret, key} references");
  }
  for (const [name, ref] of Object.entries(value as Record<string, unknown>)) {
    const where = `secretEnv.${name}`;
    if (typeof ref === "string") {
      addRef(refs, name, ref, where);
    } else if (typeof ref === "object" && ref !== null && typeof (ref as SecretKeyRef).secret === "string"
      && typeof (ref as SecretKeyRef).key === "string") {
      const { secret, key } = ref as SecretKeyRef;
      addRef(refs, name, `${secret}/${key}`, where);
    } else {
      throw new ConfigError("secretEnv", `${where}: expected {"secret": name, "key": key} or "secret-name/key"`);
    }
  }
  return refs;
}

function addRef(refs: Record<string, SecretKeyRef>, name: string, target: string, where: string): void {
  if (!ENV_NAME.test(name)) {
    throw new ConfigError("secretEnv", `${where}: ${show(name)} is not an environment variable name`);
  }
  const slash = target.indexOf("/");
  const secret = slash > 0 ? target.slice(0, slash) : "";
  const key = slash > 0 ? target.slice(slash + 1) : "";
  if (!SECRET_NAME.test(secret) || secret.length > 253) {
    throw new ConfigError("secretEnv", `${where}: expected secret-name/key with a lowercase DNS-1123 Secret name, got ${show(target)}`);
  }
  if (!SECRET_KEY.test(key)) {
    throw new ConfigError("secretEnv", `${where}: the key after "/" must match [-._a-zA-Z0-9]+, got ${show(target)}`);
  }
  if (name in refs) {
    throw new ConfigError("secretEnv", `${where}: ${name} is given twice`);
  }
  refs[name] = { secret, key };
}

function optionalString(config: Record<string, unknown>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new ConfigError(key, `${key}: expected text, got ${typeof value}`);
  }
  return nonBlank(value);
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function seconds(config: Record<string, unknown>, key: string, fallback: number, { min }: { min: number }): number {
  const raw = config[key];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "string" ? Number(raw.trim()) : raw;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new ConfigError(key, `${key}: expected a number of seconds >= ${min}, got ${show(raw)}`);
  }
  return value;
}

function show(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
