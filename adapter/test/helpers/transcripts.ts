/** Sample Claude output for tests (a real CLI transcript copied from the shared samples). */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { splitLines } from "../../src/lines.js";

/** The compiled tests run from dist/test, the fixtures stay in test/fixtures. */
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, "utf8");
}

/** The lines of a real Claude run with a tool call: init … result. */
export function claudeToolRun(): string[] {
  return splitLines(fixtureText("claude-tool-run.jsonl"));
}
