/** Who this adapter is to Paperclip. */

/** The `agents.adapterType` value that selects this adapter. */
export const ADAPTER_TYPE = "claude_k8s_sidecar";

/** The name shown for it in Paperclip's UI and run metadata. */
export const ADAPTER_LABEL = "Claude Code on Kubernetes (paperclip-supervisor sidecar)";
