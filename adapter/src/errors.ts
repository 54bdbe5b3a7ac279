/**
 * The adapter's own error codes and the errors the socket client raises.
 *
 * Paperclip stores a failed run's `errorCode` and keys retries on some codes, so these strings
 * are a contract: never renamed or reused. Codes the sidecar itself reports for a run (`timeout`,
 * `max_turns_exhausted`, `k8s_*` …) are passed through unchanged.
 *
 *     SidecarError                 anything that went wrong talking to the sidecar
 *     ├── SidecarUnreachableError  no connection (socket missing, refused, not permitted)
 *     ├── SidecarConnectionError   the connection broke or timed out after it was made
 *     ├── SidecarApiError          the sidecar answered with an error body (4xx/5xx)
 *     └── SidecarProtocolError     the sidecar answered something that is not its API
 *     ConfigError                  the agent's adapter config is unusable (names the key)
 */

export const ErrorCode = {
  /** The sidecar's socket cannot be reached (at start, or for longer than the reconnect window). */
  SIDECAR_UNREACHABLE: "sidecar_unreachable",
  /** The sidecar answered something that is not its `/v1` API. */
  SIDECAR_PROTOCOL_ERROR: "sidecar_protocol_error",
  /** The sidecar failed internally (HTTP 5xx) or is stopping. */
  SIDECAR_ERROR: "sidecar_error",
  /** The sidecar no longer knows the run (pruned, or another event log). */
  SIDECAR_RUN_MISSING: "sidecar_run_missing",
  /** The agent's adapter config is invalid; the message names the key. */
  CONFIG_INVALID: "sidecar_config_invalid",
  /** Recording the run's output through Paperclip's `onLog` failed. */
  LOG_DELIVERY_FAILED: "sidecar_log_delivery_failed",
  /** The run was cancelled (the sidecar's own code for it, reused when it never answered). */
  CANCELLED: "cancelled",
} as const;

export type AdapterErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SidecarError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No connection could be made to the sidecar's socket. */
export class SidecarUnreachableError extends SidecarError {
  constructor(
    readonly socketPath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot connect to the sidecar at ${socketPath}: ${reason}` +
        " (is `paperclip-supervisor serve` running on that socket?)",
      options,
    );
  }
}

/** An established connection broke, or an answer did not arrive in time. */
export class SidecarConnectionError extends SidecarError {}

/** The sidecar answered with `{"error": {code, message, field?}}`. */
export class SidecarApiError extends SidecarError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The sidecar answered, but not in the shape of its API. */
export class SidecarProtocolError extends SidecarError {}

/** True for failures worth retrying: the sidecar may be restarting, or a stream was cut. */
export function isTransient(error: unknown): boolean {
  if (error instanceof SidecarUnreachableError || error instanceof SidecarConnectionError) {
    return true;
  }
  return error instanceof SidecarApiError && error.status >= 500;
}

/** The agent's adapter config cannot be used; `key` names the offending setting. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}
