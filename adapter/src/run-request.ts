/**
 * From Paperclip's execution context to the sidecar's `POST /v1/runs` body.
 *
 * Secrets travel by reference only. Paperclip resolves secret bindings in the agent's `env`
 * into their values before `execute` runs, and the sidecar records every request body in its
 * event log, so only variables whose binding in the agent's stored config is plain text are
 * forwarded; the others are withheld (named in a warning, never their values). Secrets reach the
 * pod as `secretEnv` references to Kubernetes Secrets.
 *
 * The body is a pure function of the context, so posting it again after a Paperclip restart is
 * answered with the existing run rather than a second Job.
 */

import { readFile } from "node:fs/promises";
import path from "node:path";

import type { AdapterSettings } from "./adapter-config.js";
import type { AdapterExecutionContext } from "./contract.js";
import { buildPrompt } from "./prompt.js";
import { AGENT_SETTINGS_FIELDS, type ClaudeOptions, type RunRequestBody, type SkillRef } from "./wire.js";

/** Agent settings that have their own place in the body (`claude`, `env`, top level). */
const PLACED_ELSEWHERE = new Set([
  "model", "effort", "maxTurnsPerRun", "extraArgs", "dangerouslySkipPermissions", "env",
  "timeoutSec", "graceSec",
]);
const OVERRIDE_KEYS = AGENT_SETTINGS_FIELDS.filter((key) => !PLACED_ELSEWHERE.has(key));
/** Whole-number settings: the UI's number fields may hand them over as text. */
const INTEGER_KEYS = new Set(["ttlSecondsAfterFinished"]);
const SKILL_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export interface BuiltRequest {
  body: RunRequestBody;
  /** Human-readable problems that did not stop the run (for a stderr line each). */
  warnings: string[];
}

/** Build the run request (reads the instructions file named in the config, if any). */
export async function buildRunRequest(ctx: AdapterExecutionContext, settings: AdapterSettings): Promise<BuiltRequest> {
  const config = ctx.config ?? {};
  const warnings: string[] = [];
  const sessionId = sessionIdOf(ctx);
  const taskKey = taskKeyOf(ctx);
  const agent = {
    id: ctx.agent.id,
    ...(nonBlank(ctx.agent.name) ? { name: ctx.agent.name } : {}),
    ...(nonBlank(ctx.agent.companyId) ? { companyId: ctx.agent.companyId } : {}),
  };
  const prompt = buildPrompt({
    agent: { id: ctx.agent.id, name: ctx.agent.name ?? "", companyId: ctx.agent.companyId ?? "" },
    runId: ctx.runId,
    taskKey,
    context: ctx.context ?? {},
    config,
    resumed: sessionId !== undefined,
  });

  const body: RunRequestBody = { runId: ctx.runId, agent, prompt };
  if (taskKey !== null) body.taskKey = taskKey;
  if (sessionId !== undefined) body.sessionId = sessionId;

  const claude = claudeOptions(config);
  if (Object.keys(claude).length) body.claude = claude;

  const overrides = agentOverrides(config);
  if (Object.keys(overrides).length) body.config = overrides;

  const { env, withheld } = plainEnv(config.env, ctx.agent.adapterConfig, settings.secretEnv);
  if (withheld.length) {
    warnings.push(
      `not forwarding env ${withheld.join(", ")}: not plain text in the agent's config (secrets reach the pod only as secretEnv references to Kubernetes Secrets)`,
    );
  }
  if (Object.keys(env).length) body.env = env;
  if (Object.keys(settings.secretEnv).length) body.secretEnv = settings.secretEnv;

  const instructions = await readInstructions(config, warnings);
  if (instructions !== undefined) body.instructions = instructions;

  const skills = skillRefs(config.paperclipRuntimeSkills, settings.sharedVolumePath, warnings);
  if (skills.length) body.skills = skills;

  const timeoutSec = given(config.timeoutSec);
  if (timeoutSec !== undefined) body.timeoutSec = numeric(timeoutSec) as number;
  const graceSec = given(config.graceSec);
  if (graceSec !== undefined) body.graceSec = numeric(graceSec) as number;
  return { body, warnings };
}

/** The Claude session to resume: the codec's params first, then the legacy id. */
export function sessionIdOf(ctx: AdapterExecutionContext): string | undefined {
  const params = ctx.runtime?.sessionParams;
  const fromParams = params ? params.sessionId ?? params.session_id : undefined;
  if (typeof fromParams === "string" && fromParams.trim()) return fromParams.trim();
  const legacy = ctx.runtime?.sessionId;
  return typeof legacy === "string" && legacy.trim() ? legacy.trim() : undefined;
}

function taskKeyOf(ctx: AdapterExecutionContext): string | null {
  for (const candidate of [ctx.runtime?.taskKey, ctx.context?.taskKey, ctx.context?.issueId]) {
    if (typeof candidate === "string" && candidate.trim()) return candidate.trim();
  }
  return null;
}

/**
 * The `claude` block. Values are passed on as given (numbers given as text converted): the
 * sidecar checks them and its 400 answer names a bad one, which becomes the run's error.
 */
function claudeOptions(config: Record<string, unknown>): ClaudeOptions {
  const options: Record<string, unknown> = {};
  const sources: Array<[keyof ClaudeOptions, string]> = [
    ["model", "model"], ["effort", "effort"], ["maxTurns", "maxTurnsPerRun"],
    ["extraArgs", "extraArgs"], ["dangerouslySkipPermissions", "dangerouslySkipPermissions"],
  ];
  for (const [field, key] of sources) {
    const value = given(config[key]);
    if (value !== undefined) options[field] = typeof value === "string" ? value.trim() : value;
  }
  if (options.maxTurns !== undefined) options.maxTurns = numeric(options.maxTurns);
  return options as ClaudeOptions;
}

/** The sidecar's per-agent settings present in the config; blank form values are left out. */
function agentOverrides(config: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const key of OVERRIDE_KEYS) {
    const value = given(config[key]);
    if (value !== undefined) overrides[key] = INTEGER_KEYS.has(key) ? numeric(value) : value;
  }
  return overrides;
}

/**
 * The agent's environment variables that are plain text in its stored config.
 *
 * `resolved` is `ctx.config.env` (secret bindings already replaced by values); `stored` is the
 * agent's unresolved config, whose `env` says how each variable was bound.
 */
export function plainEnv(
  resolved: unknown,
  stored: unknown,
  secretEnv: Record<string, unknown>,
): { env: Record<string, string>; withheld: string[] } {
  const env: Record<string, string> = {};
  const withheld: string[] = [];
  if (typeof resolved !== "object" || resolved === null || Array.isArray(resolved)) return { env, withheld };
  const storedEnv = typeof stored === "object" && stored !== null ? (stored as Record<string, unknown>).env : undefined;
  const bindings = typeof storedEnv === "object" && storedEnv !== null ? (storedEnv as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(resolved as Record<string, unknown>)) {
    if (name in secretEnv) continue; // a Secret reference of the same name wins
    const binding = bindings[name];
    const isPlain = typeof binding === "string"
      || (typeof binding === "object" && binding !== null && (binding as { type?: unknown }).type === "plain");
    if (isPlain && typeof value === "string") env[name] = value;
    else withheld.push(name);
  }
  return { env, withheld: withheld.sort() };
}

async function readInstructions(config: Record<string, unknown>, warnings: string[]): Promise<string | undefined> {
  const file = nonBlank(config.instructionsFilePath) ? (config.instructionsFilePath as string).trim() : undefined;
  if (file === undefined) return undefined;
  try {
    const text = await readFile(file, "utf8");
    // Tell Claude where relative references in the instructions resolve from.
    return `${text}\n\nThese instructions were loaded from ${file}; resolve relative references from ${path.dirname(file)}/.`;
  } catch (error) {
    warnings.push(`could not read the agent instructions file ${JSON.stringify(file)}: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Paperclip's runtime skill entries as sidecar skill references: each source directory must lie
 * on the shared volume (as this server sees it); the sidecar gets the path relative to its root.
 */
export function skillRefs(entries: unknown, sharedVolumePath: string, warnings: string[]): SkillRef[] {
  if (!Array.isArray(entries)) return [];
  const root = path.resolve(sharedVolumePath);
  const refs: SkillRef[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== "object" || entry === null) continue;
    const record = entry as Record<string, unknown>;
    const name = [record.runtimeName, record.name, record.key].find((v): v is string => nonBlank(v));
    const source = nonBlank(record.source) ? (record.source as string) : undefined;
    if (name === undefined || source === undefined) continue;
    if (!SKILL_NAME.test(name) || seen.has(name)) {
      warnings.push(`skipping skill ${JSON.stringify(name)}: its name must be one unique path component of [A-Za-z0-9._-]`);
      continue;
    }
    const relative = path.relative(root, path.resolve(source));
    if (!relative || relative.startsWith("..") || path.isAbsolute(relative)) {
      warnings.push(`skipping skill ${JSON.stringify(name)}: ${source} is not on the shared volume at ${root}`);
      continue;
    }
    seen.add(name);
    refs.push({ name, path: relative.split(path.sep).join("/") });
  }
  return refs;
}

/** A config value that was filled in: undefined for missing, null and blank text. */
function given(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && !value.trim()) return undefined;
  return value;
}

/** Whole numbers given as text become numbers; anything else is left for the sidecar to judge. */
function numeric(value: unknown): unknown {
  return typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

function nonBlank(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}
