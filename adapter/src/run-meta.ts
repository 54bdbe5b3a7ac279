/**
 * What the adapter tells Paperclip about a run it handed to the sidecar: the invocation metadata
 * (`onMeta`, stored as the run's `adapter.invoke` event) and the status line saying how the
 * sidecar took the run.
 */

import type { AdapterSettings } from "./adapter-config.js";
import type { AdapterExecutionContext, AdapterInvocationMeta } from "./contract.js";
import { ADAPTER_TYPE } from "./identity.js";
import type { RunRequestBody, RunState } from "./wire.js";

/** How `POST /v1/runs` went: a new run, the same request again, or another request for it. */
export type Submission = { run: RunState; how: "created" | "existing" | "conflict" };

/** The status line saying how the sidecar took the run. */
export function describeSubmission({ run, how }: Submission): string {
  const job = run.jobName ? `, Job ${run.jobName}` : "";
  switch (how) {
    case "created":
      return `the sidecar accepted run ${run.runId} (phase ${run.phase}${job})`;
    case "existing":
      return `the sidecar already has run ${run.runId} (phase ${run.phase}${job}): following it instead of starting another`;
    case "conflict":
      return `the sidecar already has run ${run.runId} from an earlier request with other details (phase ${run.phase}${job}): following that run`;
  }
}

/** The `onMeta` payload: where the run went, what it was asked, and plain env only. */
export function invocationMeta(
  ctx: AdapterExecutionContext,
  body: RunRequestBody,
  settings: AdapterSettings,
  { run, how }: Submission,
): AdapterInvocationMeta {
  const notes = [
    `Sidecar socket: ${settings.socketPath}`,
    `Sidecar run: ${run.runId} (${how}, phase ${run.phase}${run.jobName ? `, Job ${run.jobName} in ${run.namespace}` : ""})`,
    `Task: ${body.taskKey ?? "none"}; resumes session: ${body.sessionId ?? "none (new session)"}`,
    `Skills (${body.skills?.length ?? 0}): ${body.skills?.map((s) => s.name).join(", ") || "none"}`,
  ];
  const secretRefs = Object.entries(body.secretEnv ?? {}).map(([name, ref]) => `${name} <- secret ${ref.secret}/${ref.key}`);
  if (secretRefs.length) notes.push(`Secret env (by reference): ${secretRefs.join(", ")}`);
  const cwd = ctx.config?.cwd;
  return {
    adapterType: ADAPTER_TYPE,
    command: "paperclip-supervisor",
    ...(typeof cwd === "string" && cwd ? { cwd } : {}),
    commandArgs: ["POST", "/v1/runs", body.runId],
    commandNotes: notes,
    env: body.env ?? {},
    prompt: body.prompt,
    promptMetrics: { promptChars: body.prompt.length, instructionsChars: body.instructions?.length ?? 0 },
    context: ctx.context ?? {},
  };
}
