/**
 * The sidecar's `/v1` wire types, mirroring `supervisor/api/schemas.py`, `supervisor/runspec.py`,
 * `events/replay.py::run_to_json` and `events/codec.py::event_to_json`.
 *
 * The `*_FIELDS` lists name every field of a body; `test/wire-contract.test.ts` compares them
 * with the Python structs so a rename on either side fails a test instead of a production run.
 */

export const API_VERSION = "v1";

/** A reference to one key of a Kubernetes Secret in the Job's namespace (never a value). */
export interface SecretKeyRef {
  secret: string;
  key: string;
}

/** A skill directory on the shared volume, relative to its root, linked in under `name`. */
export interface SkillRef {
  name: string;
  path: string;
}

export interface AgentRef {
  id: string;
  name?: string;
  companyId?: string;
}

export interface ClaudeOptions {
  model?: string;
  effort?: string;
  maxTurns?: number;
  extraArgs?: string[];
  dangerouslySkipPermissions?: boolean;
}

/** The body of `POST /v1/runs`. */
export interface RunRequestBody {
  runId: string;
  agent: AgentRef;
  prompt: string;
  taskKey?: string;
  sessionId?: string;
  claude?: ClaudeOptions;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  secretEnv?: Record<string, SecretKeyRef>;
  instructions?: string;
  skills?: SkillRef[];
  timeoutSec?: number;
  graceSec?: number;
}

export const RUN_REQUEST_FIELDS = [
  "runId", "agent", "prompt", "taskKey", "sessionId", "claude", "config", "env", "secretEnv",
  "instructions", "skills", "timeoutSec", "graceSec",
] as const;
export const AGENT_REF_FIELDS = ["id", "name", "companyId"] as const;
export const CLAUDE_OPTIONS_FIELDS = [
  "model", "effort", "maxTurns", "extraArgs", "dangerouslySkipPermissions",
] as const;
export const SECRET_KEY_REF_FIELDS = ["secret", "key"] as const;
export const SKILL_REF_FIELDS = ["name", "path"] as const;

/**
 * The per-agent settings the sidecar accepts in a run's `config` (`AgentSettings`, camelCase).
 * Settings that have their own place in the request body are sent there instead.
 */
export const AGENT_SETTINGS_FIELDS = [
  "namespace", "image", "imagePullPolicy", "serviceAccountName", "resources",
  "resources.requests.cpu", "resources.requests.memory", "resources.limits.cpu",
  "resources.limits.memory", "nodeSelector", "labels", "tolerations", "ttlSecondsAfterFinished",
  "retainJobs", "reattachOrphanedJobs", "timeoutSec", "graceSec", "maxTurnsPerRun", "model",
  "effort", "extraArgs", "env", "dangerouslySkipPermissions", "mcpServers", "mcpBaseConfig",
  "workspaceVolumeClaim", "workspaceMountPath", "cwd", "enableDocker", "dockerImage",
  "dockerCpuLimit", "dockerMemoryLimit", "ccrotateAccounts",
] as const;

export type RunPhase =
  | "pending" | "scheduling" | "running" | "finishing"
  | "succeeded" | "failed" | "cancelled" | "lost";

export const TERMINAL_PHASES: ReadonlySet<string> = new Set([
  "succeeded", "failed", "cancelled", "lost",
]);

/** A run as `GET /v1/runs/{id}` (and `POST /v1/runs`) report it. */
export interface RunState {
  runId: string;
  agentId: string;
  taskKey: string;
  sessionId: string;
  phase: RunPhase;
  jobName: string;
  namespace: string;
  podName: string;
  createdAt: string | null;
  updatedAt: string | null;
  lastOutputAt: string | null;
  lastKeepaliveAt: string | null;
  exitCode: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  lastSeq: number;
  outputLines: number;
  outputBytes: number;
  gaps: number;
  reconnects: number;
  cancelRequested: boolean;
}

export const RUN_STATE_FIELDS = [
  "runId", "agentId", "taskKey", "sessionId", "phase", "jobName", "namespace", "podName",
  "createdAt", "updatedAt", "lastOutputAt", "lastKeepaliveAt", "exitCode", "errorCode",
  "errorMessage", "lastSeq", "outputLines", "outputBytes", "gaps", "reconnects",
  "cancelRequested",
] as const;

/** `{"run": state}`: the answer of `POST /v1/runs`, `GET /v1/runs/{id}` and the cancel. */
export interface RunEnvelope {
  run: RunState;
}

/** Every event on an NDJSON stream; the kind decides the other fields. */
export interface SidecarEvent {
  seq: number;
  runId: string;
  ts: number;
  kind: string;
  [field: string]: unknown;
}

/** `log.chunk`: one or more complete lines exactly as the pod printed them. */
export interface LogChunkEvent extends SidecarEvent {
  kind: "log.chunk";
  stream: string;
  text: string;
}

/** `keepalive.ticked`: the run is alive and has been silent this long. */
export interface KeepaliveEvent extends SidecarEvent {
  kind: "keepalive.ticked";
  silentFor: number;
  jobState: string;
}

/** `run.finished`: the last event of a run. */
export interface RunFinishedEvent extends SidecarEvent {
  kind: "run.finished";
  phase: RunPhase;
  errorCode: string;
  errorMessage: string;
  exitCode: number | null;
}

/** `GET /v1/runs/{id}/result` (409 until the run is terminal). */
export interface RunResult {
  runId: string;
  phase: RunPhase;
  exitCode: number | null;
  signal: number | null;
  timedOut: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  sessionId: string | null;
  model: string | null;
  usage: Record<string, unknown>;
  costUsd: number | null;
  summary: string | null;
  resultJson: Record<string, unknown> | null;
  clearSession: boolean;
}

export const RUN_RESULT_FIELDS = [
  "runId", "phase", "exitCode", "signal", "timedOut", "errorCode", "errorMessage", "sessionId",
  "model", "usage", "costUsd", "summary", "resultJson", "clearSession",
] as const;

export interface ComponentHealth {
  ok: boolean;
  detail?: string;
}

/** `GET /v1/healthz` (200 when everything is ok, 503 with the same body otherwise). */
export interface HealthBody {
  ok: boolean;
  version: string;
  db: ComponentHealth;
  cluster: ComponentHealth;
  activeRuns: number;
  lastSeq: number;
  uptimeSec: number;
  /** The service account's permissions (SelfSubjectAccessReview); absent without a cluster. */
  rbac?: ComponentHealth | null;
  /** Any further `{ok, detail}` component is shown by testEnvironment too. */
  [component: string]: unknown;
}

export const HEALTH_FIELDS = [
  "ok", "version", "db", "cluster", "activeRuns", "lastSeq", "uptimeSec", "rbac",
] as const;

/** `GET /v1/version`. */
export interface VersionBody {
  version: string;
  api: string;
  eventSchema: number;
}

export const VERSION_FIELDS = ["version", "api", "eventSchema"] as const;

/** Every 4xx/5xx answer. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** The sidecar's error code for a runId posted again with a different body. */
export const RUN_CONFLICT = "run_conflict";
/** The sidecar's error code for a result asked for before the run ended. */
export const RUN_NOT_TERMINAL = "run_not_terminal";
