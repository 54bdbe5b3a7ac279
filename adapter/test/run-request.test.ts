/** Building the `POST /v1/runs` body, and reading the adapter's own settings. */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import {
  DEFAULT_SOCKET_PATH,
  parseSecretEnv,
  readAdapterSettings,
} from "../src/adapter-config.js";
import { ConfigError } from "../src/errors.js";
import { renderTemplate } from "../src/prompt.js";
import { buildRunRequest, plainEnv, skillRefs } from "../src/run-request.js";
import { fakeContext } from "./helpers/fake-context.js";

const settings = (config: Record<string, unknown> = {}) => readAdapterSettings(config, {});

describe("readAdapterSettings", () => {
  it("has a default for every setting", () => {
    const s = settings();
    assert.equal(s.socketPath, DEFAULT_SOCKET_PATH);
    assert.equal(s.statusIntervalMs, 30_000);
    assert.equal(s.reconnectWindowMs, 300_000);
    assert.equal(s.cancelPollMs, 15_000);
    assert.equal(s.paperclipApiUrl, null);
    assert.equal(s.sharedVolumePath, "/paperclip");
    assert.deepEqual(s.secretEnv, {});
  });

  it("takes the socket and Paperclip's API URL from the server environment, and numbers given as text", () => {
    const env = { PAPERCLIP_API_URL: "http://paperclip:3100/", PAPERCLIP_SUPERVISOR_SOCKET: "/run/s/api.sock" };
    const s = readAdapterSettings({ statusIntervalSec: "12.5", workspaceMountPath: "/work" }, env);
    assert.equal(s.socketPath, "/run/s/api.sock");
    assert.equal(readAdapterSettings({ socketPath: "/agent.sock" }, env).socketPath, "/agent.sock");
    assert.equal(s.paperclipApiUrl, "http://paperclip:3100");
    assert.equal(s.statusIntervalMs, 12_500);
    assert.equal(s.sharedVolumePath, "/work");
  });

  it("refuses a status interval the reaper could not live with, naming the key", () => {
    assert.throws(() => settings({ statusIntervalSec: 61 }), (error: unknown) =>
      error instanceof ConfigError && error.key === "statusIntervalSec" && /at most 60/.test(error.message));
    assert.throws(() => settings({ statusIntervalSec: "soon" }), /statusIntervalSec: expected a number of seconds >= 0.01, got "soon"/);
    assert.throws(() => settings({ socketPath: "relative.sock" }), /socketPath: expected an absolute path/);
    assert.throws(() => settings({ paperclipApiUrl: "paperclip:3100" }), /paperclipApiUrl: expected an http\(s\) URL/);
  });
});

describe("parseSecretEnv", () => {
  it("reads NAME=secret/key lines and objects", () => {
    assert.deepEqual(parseSecretEnv("# credentials\nANTHROPIC_API_KEY=anthropic-creds/api-key\n\n GH_TOKEN = gh.tokens/token.v1 \n"), {
      ANTHROPIC_API_KEY: { secret: "anthropic-creds", key: "api-key" },
      GH_TOKEN: { secret: "gh.tokens", key: "token.v1" },
    });
    assert.deepEqual(parseSecretEnv({ A: { secret: "s", key: "k" }, B: "t/u" }), {
      A: { secret: "s", key: "k" }, B: { secret: "t", key: "u" },
    });
  });

  it("names the line or entry that is wrong", () => {
    assert.throws(() => parseSecretEnv("A=s/k\nnot a line"), /secretEnv line 2: expected NAME=secret-name\/key, got "not a line"/);
    assert.throws(() => parseSecretEnv("1BAD=s/k"), /secretEnv line 1: "1BAD" is not an environment variable name/);
    assert.throws(() => parseSecretEnv("A=s"), /secretEnv line 1: expected secret-name\/key/);
    assert.throws(() => parseSecretEnv("A=s/bad key"), /the key after "\/" must match/);
    assert.throws(() => parseSecretEnv("A=s/k\nA=t/k"), /A is given twice/);
    assert.throws(() => parseSecretEnv({ A: 3 }), /secretEnv.A: expected/);
    assert.throws(() => parseSecretEnv(["A=s/k"]), /secretEnv: expected NAME=secret-name\/key lines or an object/);
  });
});

describe("buildRunRequest", () => {
  it("builds the same body from the same context (so a repeated POST is idempotent)", async () => {
    const { ctx } = fakeContext({ runId: "run-a", config: { model: "claude-opus-4-8", maxTurnsPerRun: "40", namespace: "agents" } });
    const one = await buildRunRequest(ctx, settings(ctx.config));
    const two = await buildRunRequest(ctx, settings(ctx.config));
    assert.deepEqual(one, two);
    assert.deepEqual(one.body, {
      runId: "run-a",
      agent: { id: "agent-1", name: "Test Agent", companyId: "company-1" },
      prompt: "You are agent agent-1 (Test Agent). Continue your Paperclip work.",
      taskKey: "task-1",
      claude: { model: "claude-opus-4-8", maxTurns: 40 },
      config: { namespace: "agents" },
    });
  });

  it("places each setting where the sidecar expects it and leaves Paperclip's own keys out", async () => {
    const { ctx } = fakeContext({
      runId: "run-b",
      sessionId: "sess-1",
      config: {
        socketPath: "/tmp/x.sock", promptTemplate: "Work on {{ context.issueId }} as {{agent.name}}.",
        bootstrapPromptTemplate: "Fresh start.", effort: "high", extraArgs: ["--verbose"], dangerouslySkipPermissions: false,
        timeoutSec: 600, graceSec: "30", image: "ghcr.io/x/claude:1", ttlSecondsAfterFinished: "300", retainJobs: true,
        "resources.limits.memory": "4Gi", nodeSelector: "pool=agents", cwd: "", instructionsFilePath: "",
        paperclipRuntimeSkills: [], promptTemplateExtra: "not a sidecar key",
      },
      context: { issueId: "ISS-9", paperclipTaskMarkdown: "# Task\nFix it.", paperclipWake: { reason: "assignment" } },
    });
    const { body, warnings } = await buildRunRequest(ctx, settings(ctx.config));
    assert.deepEqual(warnings, []);
    assert.equal(body.sessionId, "sess-1");
    assert.deepEqual(body.claude, { effort: "high", extraArgs: ["--verbose"], dangerouslySkipPermissions: false });
    assert.deepEqual(body.config, {
      image: "ghcr.io/x/claude:1", "resources.limits.memory": "4Gi", nodeSelector: "pool=agents", ttlSecondsAfterFinished: 300, retainJobs: true,
    });
    assert.equal(body.timeoutSec, 600);
    assert.equal(body.graceSec, 30);
    // A resumed session gets no bootstrap section; the wake payload and task come before the template.
    assert.equal(body.prompt, "## Paperclip wake\n\n```json\n{\n  \"reason\": \"assignment\"\n}\n```\n\n# Task\nFix it.\n\nWork on ISS-9 as Test Agent.");
  });

  it("starts a fresh session with the bootstrap template", async () => {
    const { ctx } = fakeContext({ runId: "run-c", config: { bootstrapPromptTemplate: "Hello {{agent.id}}." } });
    const { body } = await buildRunRequest(ctx, settings());
    assert.equal(body.sessionId, undefined);
    assert.match(body.prompt, /^Hello agent-1\.\n\nYou are agent agent-1/);
  });

  it("sends the instructions file's text, or warns when it cannot be read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pcs-instr-"));
    try {
      const file = path.join(dir, "AGENTS.md");
      writeFileSync(file, "Be careful.");
      const { ctx } = fakeContext({ runId: "run-d", config: { instructionsFilePath: file } });
      const { body } = await buildRunRequest(ctx, settings());
      assert.equal(body.instructions, `Be careful.\n\nThese instructions were loaded from ${file}; resolve relative references from ${dir}/.`);
      const missing = fakeContext({ runId: "run-e", config: { instructionsFilePath: path.join(dir, "nope.md") } }).ctx;
      const built = await buildRunRequest(missing, settings());
      assert.equal(built.body.instructions, undefined);
      assert.match(built.warnings[0] ?? "", /could not read the agent instructions file .*nope\.md/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("plainEnv", () => {
  it("forwards only variables bound as plain text; secret-bound and unknown ones are withheld by name", () => {
    const { env, withheld } = plainEnv(
      { A: "1", B: "secret-value", C: "from-project", D: "2", E: "ref" },
      { env: { A: "1", B: { type: "secret_ref", secretId: "x" }, D: { type: "plain", value: "2" }, E: { type: "user_secret_ref", key: "k" } } },
      {},
    );
    assert.deepEqual(env, { A: "1", D: "2" });
    assert.deepEqual(withheld, ["B", "C", "E"]);
  });

  it("lets a secretEnv reference of the same name win", () => {
    assert.deepEqual(plainEnv({ A: "1" }, { env: { A: "1" } }, { A: { secret: "s", key: "k" } }), { env: {}, withheld: [] });
  });
});

describe("skillRefs", () => {
  it("turns skill sources on the shared volume into relative paths and skips the rest", () => {
    const warnings: string[] = [];
    const refs = skillRefs([
      { key: "paperclip", runtimeName: "paperclip", source: "/paperclip/skills/paperclip" },
      { key: "x", runtimeName: "outside", source: "/opt/skills/outside" },
      { key: "bad", runtimeName: "../escape", source: "/paperclip/skills/bad" },
      { key: "dup", runtimeName: "paperclip", source: "/paperclip/skills/other" },
      { key: "incomplete" },
    ], "/paperclip", warnings);
    assert.deepEqual(refs, [{ name: "paperclip", path: "skills/paperclip" }]);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0] ?? "", /outside.*not on the shared volume at \/paperclip/);
  });
});

describe("renderTemplate", () => {
  it("walks dotted paths; missing values are empty, objects JSON", () => {
    assert.equal(renderTemplate("{{a.b}}-{{ a.c }}-{{missing.x}}-{{n}}-{{o}}", { a: { b: "x", c: 2 }, n: null, o: { k: 1 } }), "x-2---{\"k\":1}");
  });
});
