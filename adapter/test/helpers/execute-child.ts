/**
 * A stand-in Paperclip server process for restart tests: runs `execute` for the context given
 * as JSON in argv[2] and prints every `onLog` call as one JSON line on stdout, so the parent test
 * can watch the run and then kill this process like a crashed Paperclip.
 */

import type { AdapterExecutionContext } from "../../src/contract.js";
import { execute } from "../../src/execute.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as Omit<AdapterExecutionContext, "onLog">;
const ctx: AdapterExecutionContext = {
  ...spec,
  onLog: async (stream, chunk) => {
    process.stdout.write(`${JSON.stringify({ stream, chunk })}\n`);
  },
};
const result = await execute(ctx);
process.stdout.write(`${JSON.stringify({ result })}\n`);
