/**
 * The adapter module as Paperclip sees it: `createServerAdapter()`, the UI config schema, the
 * session codec, and the standalone UI parser.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

import { createServerAdapter } from "../src/index.js";
import { sessionCodec } from "../src/session-codec.js";
import { createStdoutParser, parseStdoutLine } from "../src/ui-parser.js";
import { claudeToolRun } from "./helpers/transcripts.js";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("createServerAdapter", () => {
  it("declares the capabilities Paperclip needs to run, configure and resume it", () => {
    const adapter = createServerAdapter();
    assert.equal(adapter.type, "claude_k8s_sidecar");
    assert.equal(typeof adapter.execute, "function");
    assert.equal(typeof adapter.testEnvironment, "function");
    assert.equal(adapter.supportsLocalAgentJwt, true);
    assert.equal(adapter.supportsInstructionsBundle, true);
    assert.equal(adapter.sessionManagement?.supportsSessionResume, true);
    assert.match(adapter.agentConfigurationDoc ?? "", /secretEnv/);
  });

  it("offers a config form with the socket and the sidecar's per-agent fields, not Paperclip's own", async () => {
    const schema = await createServerAdapter().getConfigSchema?.();
    assert.ok(schema);
    const keys = schema.fields.map((f) => f.key);
    assert.equal(new Set(keys).size, keys.length, "no key twice");
    for (const key of ["socketPath", "secretEnv", "namespace", "image", "reattachOrphanedJobs", "resources.limits.memory"]) {
      assert.ok(keys.includes(key), key);
    }
    for (const key of ["model", "effort", "instructionsFilePath", "timeoutSec", "graceSec", "dangerouslySkipPermissions"]) {
      assert.ok(!keys.includes(key), `${key} is provided by Paperclip`);
    }
    assert.match(schema.fields.find((f) => f.key === "socketPath")?.hint ?? "", /PAPERCLIP_SUPERVISOR_SOCKET/);
  });

  it("exports what package.json promises to the plugin loader", async () => {
    const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, "utf8")) as {
      type: string; exports: Record<string, { import: string }>; dependencies?: unknown; paperclip: { adapterUiParser: string };
    };
    assert.equal(pkg.type, "module");
    assert.equal(pkg.dependencies, undefined, "no runtime dependency beyond Node");
    assert.equal(pkg.paperclip.adapterUiParser, "1.0.0");
    const root = (await import(`${PACKAGE_ROOT}${pkg.exports["."]?.import}`)) as { createServerAdapter?: unknown };
    assert.equal(typeof root.createServerAdapter, "function");
    const parser = (await import(`${PACKAGE_ROOT}${pkg.exports["./ui-parser"]?.import}`)) as { parseStdoutLine?: unknown };
    assert.equal(typeof parser.parseStdoutLine, "function");
  });
});

describe("sessionCodec", () => {
  it("keeps the session id and workspace facts, reads snake_case, and treats anything else as no session", () => {
    assert.deepEqual(sessionCodec.deserialize({ session_id: " s-1 ", cwd: "/w", prompt_bundle_key: "k", junk: 1 }), {
      sessionId: "s-1", cwd: "/w", promptBundleKey: "k",
    });
    assert.equal(sessionCodec.deserialize({ cwd: "/w" }), null);
    assert.equal(sessionCodec.deserialize("s-1"), null);
    assert.deepEqual(sessionCodec.serialize({ sessionId: "s-2" }), { sessionId: "s-2" });
    assert.equal(sessionCodec.getDisplayId?.({ sessionId: "s-3" }), "s-3");
    assert.equal(sessionCodec.getDisplayId?.(null), null);
  });
});

describe("ui-parser", () => {
  it("renders a real Claude run: init, text, tool call, tool result, result", () => {
    const entries = claudeToolRun().flatMap((line) => parseStdoutLine(line, "t"));
    assert.deepEqual(entries.map((e) => e.kind), ["init", "assistant", "tool_call", "tool_result", "assistant", "result"]);
    const init = entries[0];
    assert.ok(init?.kind === "init" && init.sessionId === "ffe9d119-b1d3-43f4-ab2a-b298f4e369b7");
    const call = entries[2];
    assert.ok(call?.kind === "tool_call" && call.name === "Bash");
    const toolResult = entries[3];
    assert.ok(toolResult?.kind === "tool_result" && toolResult.content === "hi" && !toolResult.isError);
    const final = entries[5];
    assert.ok(final?.kind === "result" && final.isError === false && final.subtype === "success");
  });

  it("shows the adapter's status lines as system entries and other text as stdout", () => {
    assert.deepEqual(parseStdoutLine("[paperclip-sidecar] pod p running\n", "t"), [{ kind: "system", ts: "t", text: "pod p running" }]);
    assert.deepEqual(parseStdoutLine("plain text", "t"), [{ kind: "stdout", ts: "t", text: "plain text" }]);
    assert.deepEqual(parseStdoutLine("{\"type\":\"rate_limit_event\"}", "t"), []);
    assert.deepEqual(parseStdoutLine("  \n", "t"), []);
    assert.deepEqual(createStdoutParser().parseLine("x", "t"), [{ kind: "stdout", ts: "t", text: "x" }]);
  });

  it("is a standalone module: the built file imports nothing", () => {
    const built = readFileSync(`${PACKAGE_ROOT}dist/src/ui-parser.js`, "utf8");
    assert.doesNotMatch(built, /^\s*import\s/m);
    assert.doesNotMatch(built, /\brequire\(/);
  });
});
