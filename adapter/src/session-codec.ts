/**
 * How Paperclip stores this adapter's session between runs of one agent and task.
 *
 * The params keep the Claude session id plus the workspace facts Paperclip's Claude adapters keep
 * (`cwd`, `workspaceId`, `repoUrl`, `repoRef`, `promptBundleKey`); snake_case spellings written by
 * other adapters are read too. Anything without a session id is "no session".
 */

import type { AdapterSessionCodec, AdapterSessionManagement } from "./contract.js";

const FIELDS: ReadonlyArray<[string, readonly string[]]> = [
  ["sessionId", ["sessionId", "session_id"]],
  ["cwd", ["cwd", "workdir", "folder"]],
  ["workspaceId", ["workspaceId", "workspace_id"]],
  ["repoUrl", ["repoUrl", "repo_url"]],
  ["repoRef", ["repoRef", "repo_ref"]],
  ["promptBundleKey", ["promptBundleKey", "prompt_bundle_key"]],
];

function normalise(raw: unknown): Record<string, unknown> | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const record = raw as Record<string, unknown>;
  const params: Record<string, unknown> = {};
  for (const [field, aliases] of FIELDS) {
    const value = aliases.map((alias) => record[alias]).find((v) => typeof v === "string" && v.trim());
    if (typeof value === "string") params[field] = value.trim();
  }
  return typeof params.sessionId === "string" ? params : null;
}

export const sessionCodec: AdapterSessionCodec = {
  deserialize: (raw) => normalise(raw),
  serialize: (params) => normalise(params),
  getDisplayId: (params) => {
    const normalised = normalise(params);
    return normalised ? (normalised.sessionId as string) : null;
  },
};

/**
 * Claude manages its own context: Paperclip resumes the session and never rotates it by
 * thresholds (the same policy as its built-in Claude adapter).
 */
export const sessionManagement: AdapterSessionManagement = {
  supportsSessionResume: true,
  nativeContextManagement: "confirmed",
  defaultSessionCompaction: { enabled: true, maxSessionRuns: 0, maxRawInputTokens: 0, maxSessionAgeHours: 0 },
};
