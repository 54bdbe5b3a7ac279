/**
 * The adapter package's entry point: Paperclip's plugin loader imports this module and calls
 * `createServerAdapter()`.
 */

import { agentConfigurationDoc, getConfigSchema } from "./config-schema.js";
import type { ServerAdapterModule } from "./contract.js";
import { testEnvironment } from "./environment-test.js";
import { execute } from "./execute.js";
import { ADAPTER_TYPE } from "./identity.js";
import { sessionCodec, sessionManagement } from "./session-codec.js";

/** The adapter module Paperclip registers under `ADAPTER_TYPE`. */
export function createServerAdapter(): ServerAdapterModule {
  return {
    type: ADAPTER_TYPE,
    execute: (ctx) => execute(ctx),
    testEnvironment,
    getConfigSchema,
    agentConfigurationDoc,
    sessionCodec,
    sessionManagement,
    // The run-scoped token lets the adapter ask Paperclip whether the run was cancelled.
    supportsLocalAgentJwt: true,
    supportsInstructionsBundle: true,
    instructionsPathKey: "instructionsFilePath",
    requiresMaterializedRuntimeSkills: false,
  };
}

export { ADAPTER_LABEL, ADAPTER_TYPE } from "./identity.js";
export { execute } from "./execute.js";
export { testEnvironment } from "./environment-test.js";
export { getConfigSchema } from "./config-schema.js";
export { sessionCodec } from "./session-codec.js";
export { ErrorCode } from "./errors.js";
