/**
 * The form Paperclip's UI shows for an agent using this adapter, and the doc text beside it.
 *
 * Keys Paperclip provides itself (model, effort, instructions file, timeout, grace,
 * permissions) are not repeated here. Kubernetes fields are the sidecar's per-agent settings and
 * are sent with each run; blank fields fall back to the sidecar's own defaults.
 */

import {
  DEFAULT_CANCEL_GRACE_SEC,
  DEFAULT_CANCEL_POLL_SEC,
  DEFAULT_RECONNECT_WINDOW_SEC,
  DEFAULT_SOCKET_PATH,
  DEFAULT_START_RETRY_SEC,
  DEFAULT_STATUS_INTERVAL_SEC,
} from "./adapter-config.js";
import type { AdapterConfigSchema, ConfigFieldSchema } from "./contract.js";

const SIDECAR = "Sidecar";
const KUBERNETES = "Kubernetes Job";
const CLAUDE = "Claude";

const FIELDS: ConfigFieldSchema[] = [
  {
    key: "socketPath", label: "Sidecar socket", type: "text", group: SIDECAR,
    hint: `Unix socket of \`paperclip-supervisor serve\` next to this Paperclip server (a shared emptyDir in Kubernetes). Blank: $PAPERCLIP_SUPERVISOR_SOCKET, else ${DEFAULT_SOCKET_PATH}.`,
  },
  {
    key: "secretEnv", label: "Secret environment", type: "textarea", group: SIDECAR,
    hint: "One NAME=secret-name/key per line: Kubernetes Secrets in the Job's namespace, passed by reference. Secret values bound in Paperclip's env are never sent to the sidecar.",
  },
  {
    key: "statusIntervalSec", label: "Status line interval (s)", type: "number", default: DEFAULT_STATUS_INTERVAL_SEC, group: SIDECAR,
    hint: "A quiet run writes a status line this often so Paperclip knows it is alive (at most 60).",
  },
  {
    key: "sidecarStartRetrySec", label: "Sidecar start retry (s)", type: "number", default: DEFAULT_START_RETRY_SEC, group: SIDECAR,
    hint: "How long starting a run retries while the sidecar does not answer (it may be restarting).",
  },
  {
    key: "sidecarReconnectWindowSec", label: "Sidecar outage tolerance (s)", type: "number", default: DEFAULT_RECONNECT_WINDOW_SEC, group: SIDECAR,
    hint: "How long a run waits for an unreachable sidecar before it is reported failed (the Job keeps running and is adopted by the next run).",
  },
  {
    key: "cancelGraceSec", label: "Cancel grace (s)", type: "number", default: DEFAULT_CANCEL_GRACE_SEC, group: SIDECAR,
    hint: "After a cancel, how long to wait for the sidecar to confirm the Job is gone.",
  },
  {
    key: "cancelPollSec", label: "Cancel poll interval (s)", type: "number", default: DEFAULT_CANCEL_POLL_SEC, group: SIDECAR,
    hint: "How often to ask Paperclip's API whether the run was cancelled (needs PAPERCLIP_API_URL; 0 turns it off).",
  },
  {
    key: "sharedVolumePath", label: "Shared volume path on this server", type: "text", group: SIDECAR,
    hint: "Where this server sees the workspace volume the Jobs mount; skills must live under it. Defaults to the workspace mount path, else /paperclip.",
  },
  {
    key: "maxTurnsPerRun", label: "Max turns per run", type: "number", group: CLAUDE,
    hint: "Claude's --max-turns; 0 or blank = unlimited.",
  },
  { key: "namespace", label: "Namespace", type: "text", group: KUBERNETES, hint: "Namespace for the Jobs; defaults to the sidecar's." },
  { key: "image", label: "Image", type: "text", group: KUBERNETES, hint: "Container image with Claude Code; defaults to the sidecar's configured image." },
  {
    key: "imagePullPolicy", label: "Image pull policy", type: "select", group: KUBERNETES,
    options: ["IfNotPresent", "Always", "Never"].map((value) => ({ label: value, value })),
  },
  { key: "serviceAccountName", label: "Service account", type: "text", group: KUBERNETES, hint: "Service account of the Job pods." },
  { key: "resources.requests.cpu", label: "CPU request", type: "text", group: KUBERNETES, hint: "e.g. 500m, 1" },
  { key: "resources.requests.memory", label: "Memory request", type: "text", group: KUBERNETES, hint: "e.g. 512Mi, 2Gi" },
  { key: "resources.limits.cpu", label: "CPU limit", type: "text", group: KUBERNETES },
  { key: "resources.limits.memory", label: "Memory limit", type: "text", group: KUBERNETES },
  { key: "nodeSelector", label: "Node selector", type: "textarea", group: KUBERNETES, hint: "One key=value per line." },
  { key: "tolerations", label: "Tolerations", type: "textarea", group: KUBERNETES, hint: "A JSON array of tolerations." },
  { key: "labels", label: "Extra labels", type: "textarea", group: KUBERNETES, hint: "One key=value per line." },
  { key: "ttlSecondsAfterFinished", label: "Job TTL after finish (s)", type: "number", group: KUBERNETES },
  { key: "retainJobs", label: "Keep finished Jobs", type: "toggle", default: false, group: KUBERNETES, hint: "Skip cleanup, for debugging." },
  {
    key: "reattachOrphanedJobs", label: "Adopt orphaned Jobs", type: "toggle", default: true, group: KUBERNETES,
    hint: "A new run adopts a still-running Job of the same agent, task and session (after a Paperclip restart) instead of being blocked.",
  },
  { key: "workspaceVolumeClaim", label: "Workspace volume claim", type: "text", group: KUBERNETES, hint: "PVC mounted into the Job pods." },
  { key: "workspaceMountPath", label: "Workspace mount path", type: "text", group: KUBERNETES, hint: "Where the pods mount it (default /paperclip)." },
  { key: "cwd", label: "Working directory", type: "text", group: KUBERNETES, hint: "Claude's working directory in the pod." },
  { key: "mcpServers", label: "MCP servers", type: "textarea", group: KUBERNETES, hint: "JSON object of MCP servers merged over the shared baseline." },
  { key: "enableDocker", label: "Docker sidecar", type: "toggle", default: false, group: KUBERNETES, hint: "Adds a privileged docker:dind container to the pod." },
  { key: "dockerImage", label: "Docker image", type: "text", group: KUBERNETES },
  { key: "dockerCpuLimit", label: "Docker CPU limit", type: "text", group: KUBERNETES },
  { key: "dockerMemoryLimit", label: "Docker memory limit", type: "text", group: KUBERNETES },
];

/** The declarative form for Paperclip's UI. */
export function getConfigSchema(): AdapterConfigSchema {
  return { fields: FIELDS.map((field) => ({ ...field })) };
}

export const agentConfigurationDoc = `# Claude Code on Kubernetes, through the paperclip-supervisor sidecar

Each heartbeat run is handed to \`paperclip-supervisor\`, a daemon next to this Paperclip server,
over its Unix socket (\`socketPath\`). The sidecar runs Claude Code as a Kubernetes Job, records
everything in its event log, and keeps the Job going if this server restarts: the next run for the
same agent, task and session adopts it instead of starting a second one.

- Output reaches the run log as Claude's raw stream-json lines, one per line, plus
  \`[paperclip-sidecar]\` status lines (at least every \`statusIntervalSec\` while Claude is quiet).
- Paperclip's model, effort, max turns, extra args, instructions file, timeout and grace settings
  apply as usual. Kubernetes settings (namespace, image, resources, scheduling, workspace volume,
  MCP servers, docker) override the sidecar's defaults per agent.
- Environment: plain-text variables of the agent's env are passed to the pod; variables bound to
  Paperclip secrets are not (their values would be recorded by the sidecar). Give the pod secrets as
  \`secretEnv\` lines, \`NAME=secret-name/key\`, naming Kubernetes Secrets in the Job's namespace.
- Skills: Paperclip's runtime skills must live on the shared workspace volume; the sidecar links
  them into the run's prompt bundle.
- Cancelling the run in Paperclip deletes the Job (through the sidecar) before the run settles.
- Error codes: the sidecar's run codes (\`timeout\`, \`max_turns_exhausted\`,
  \`claude_transient_upstream\`, \`k8s_*\` …) pass through; the adapter adds
  \`sidecar_unreachable\`, \`sidecar_config_invalid\`, \`sidecar_run_missing\`,
  \`sidecar_protocol_error\`, \`sidecar_error\` and \`sidecar_<code>\` for a request the sidecar
  refused (\`sidecar_invalid_request\` names the field).
`;
