/**
 * The TypeScript wire types against the Python structs they mirror: the field names the sidecar
 * decodes and encodes (msgspec's `encode_name`) must be exactly the ones `src/wire.ts` lists.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";

import {
  AGENT_REF_FIELDS,
  AGENT_SETTINGS_FIELDS,
  CLAUDE_OPTIONS_FIELDS,
  HEALTH_FIELDS,
  RUN_REQUEST_FIELDS,
  RUN_RESULT_FIELDS,
  SECRET_KEY_REF_FIELDS,
  SKILL_REF_FIELDS,
  VERSION_FIELDS,
} from "../src/wire.js";
import { PYTHON, REPO_ROOT, rigUnavailable } from "./helpers/rig.js";

const INTROSPECT = `
import json, msgspec
from supervisor import config, runspec
from supervisor.api import schemas
def names(cls):
    return [f.encode_name for f in msgspec.structs.fields(cls)]
print(json.dumps({
    "RunRequest": names(runspec.RunRequest), "AgentRef": names(runspec.AgentRef),
    "ClaudeOptions": names(runspec.ClaudeOptions), "SecretKeyRef": names(runspec.SecretKeyRef),
    "SkillRef": names(runspec.SkillRef), "AgentSettings": names(config.AgentSettings),
    "RunResultBody": names(schemas.RunResultBody), "HealthBody": names(schemas.HealthBody),
    "VersionBody": names(schemas.VersionBody),
}))
`;

const skip = rigUnavailable();

describe("wire types match the sidecar's Python structs", { skip: skip ?? false }, () => {
  const python = (): Record<string, string[]> =>
    JSON.parse(execFileSync(PYTHON, ["-c", INTROSPECT], { cwd: REPO_ROOT, encoding: "utf8" })) as Record<string, string[]>;
  const sorted = (names: readonly string[] | undefined) => [...(names ?? [])].sort();

  it("has every request, result, health and version field under the sidecar's name", () => {
    const structs = python();
    const pairs: Array<[string, readonly string[]]> = [
      ["RunRequest", RUN_REQUEST_FIELDS], ["AgentRef", AGENT_REF_FIELDS], ["ClaudeOptions", CLAUDE_OPTIONS_FIELDS],
      ["SecretKeyRef", SECRET_KEY_REF_FIELDS], ["SkillRef", SKILL_REF_FIELDS], ["AgentSettings", AGENT_SETTINGS_FIELDS],
      ["RunResultBody", RUN_RESULT_FIELDS], ["HealthBody", HEALTH_FIELDS], ["VersionBody", VERSION_FIELDS],
    ];
    for (const [struct, fields] of pairs) {
      assert.deepEqual(sorted(fields), sorted(structs[struct]), `${struct} in src/wire.ts`);
    }
  });
});
