/**
 * Short status lines for the sidecar's lifecycle events, so Paperclip's run log shows where a
 * run stands (Job created, pod pending, reattached …) between Claude's own output lines.
 * Events that say nothing useful to a person (and unknown kinds) give no line.
 */

import type { LogStream } from "./contract.js";
import type { SidecarEvent } from "./wire.js";

export interface StatusLine {
  stream: LogStream;
  text: string;
}

/** The status line for one event, or null. */
export function statusLineFor(event: SidecarEvent): StatusLine | null {
  const f = (key: string): string => {
    const value = event[key];
    return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  };
  const out = (text: string): StatusLine => ({ stream: "stdout", text });
  const err = (text: string): StatusLine => ({ stream: "stderr", text });
  switch (event.kind) {
    case "guard.checked":
      return f("decision") === "proceed" ? null : out(`concurrency guard: ${f("decision")}${suffix(f("reason"))}`);
    case "job.created":
      return out(`${event.adopted === true ? "adopted" : "created"} Job ${f("jobName")} in namespace ${f("namespace")}`);
    case "job.create_failed":
      return err(`creating Job ${f("jobName")} failed: ${f("errorCode")}${suffix(f("message"))}`);
    case "run.reattached":
      return out(`reattached to Job ${f("jobName")} (${f("mode")}${f("priorRunId") ? `, prior run ${f("priorRunId")}` : ""})`);
    case "pod.pending":
      return out(`pod ${f("podName") || "(not yet created)"} pending${suffix(f("detail") || f("reason"))}`);
    case "pod.running":
      return out(`pod ${f("podName")} running`);
    case "pod.failed":
      return err(`pod ${f("podName")} failed${suffix(f("reason"))}${f("message") ? `: ${f("message")}` : ""}`);
    case "log.gap":
      return err(`output gap in the pod log${suffix(f("reason"))}: some lines may be missing`);
    case "cancel.requested":
      return out(`cancel requested${f("requestedBy") ? ` by ${f("requestedBy")}` : ""}${suffix(f("reason"))}`);
    case "job.terminal":
      return out(`Job finished: ${f("outcome")}${suffix(f("reason"))}`);
    default:
      return null;
  }
}

/** The status line for a keepalive tick of the sidecar. */
export function keepaliveText(event: SidecarEvent): string {
  const silent = typeof event.silentFor === "number" ? `${Math.round(event.silentFor)}s` : "a while";
  const job = typeof event.jobState === "string" && event.jobState ? `job ${event.jobState}` : "job alive";
  return `keepalive: ${job}, no output for ${silent}`;
}

function suffix(text: string): string {
  return text ? ` (${text})` : "";
}
