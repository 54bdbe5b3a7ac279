/**
 * Paperclip's adapter contract, as types only.
 *
 * Why this module exists: every other module imports Paperclip's types from here, so the one
 * place that knows where they come from is this file. They come from the published
 * `@paperclipai/adapter-utils` package, a dev dependency: `import type` is erased by the
 * compiler, so the built adapter has no runtime dependency on it.
 *
 * The pinned release (2026.707.0) is the newest one that installs on its own: later releases
 * bundle `acpx` and its toolchain, and `npm ci` rejects their lock file. The three cancellation
 * hooks later releases added to the execution context are declared below, exactly as those
 * releases spell them; all are optional, so older Paperclip servers simply do not pass them.
 */

export type {
  AdapterConfigSchema,
  AdapterEnvironmentCheck,
  AdapterEnvironmentCheckLevel,
  AdapterEnvironmentTestContext,
  AdapterEnvironmentTestResult,
  AdapterExecutionContext,
  AdapterExecutionResult,
  AdapterInvocationMeta,
  AdapterSessionCodec,
  AdapterSessionManagement,
  ConfigFieldSchema,
  ServerAdapterModule,
  TranscriptEntry,
  UsageSummary,
} from "@paperclipai/adapter-utils";

// Not re-exported by the package root.
export type { AdapterExecutionErrorFamily } from "@paperclipai/adapter-utils/types";

declare module "@paperclipai/adapter-utils/types" {
  interface AdapterExecutionContext {
    /** Run-scoped operator cancellation; adapters must settle before returning. */
    signal?: AbortSignal;
    /** Opt in to signal-based cancellation before starting provider work. */
    onCancellationReady?: () => Promise<void>;
    /** Adapters without a local process call this right before starting the remote operation. */
    onDispatch?: () => void;
  }
}

/** The stream an `onLog` chunk belongs to. */
export type LogStream = "stdout" | "stderr";
