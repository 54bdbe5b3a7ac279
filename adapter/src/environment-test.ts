/**
 * `testEnvironment`: Paperclip's "Test environment" button for this adapter.
 *
 * Checks, in order, stopping at the first that makes the rest meaningless: the adapter config
 * reads; the socket file exists and is a socket; the sidecar answers `/v1/version` with API v1;
 * then each component of `/v1/healthz` (event log, cluster, and any further component the
 * sidecar reports, such as RBAC checks) becomes one check. Any error → `fail`, else any
 * warning → `warn`, else `pass`.
 */

import { stat } from "node:fs/promises";

import { readAdapterSettings } from "./adapter-config.js";
import type {
  AdapterEnvironmentCheck,
  AdapterEnvironmentTestContext,
  AdapterEnvironmentTestResult,
} from "./contract.js";
import { ConfigError } from "./errors.js";
import { ADAPTER_TYPE } from "./identity.js";
import { SidecarClient, isObject } from "./sidecar-client.js";
import { API_VERSION, HEALTH_FIELDS, type ComponentHealth, type HealthBody } from "./wire.js";

const TEST_TIMEOUT_MS = 10_000;
const NO_CLUSTER_DETAIL = "no cluster client configured";

/** Run the checks (never throws). */
export async function testEnvironment(ctx: AdapterEnvironmentTestContext): Promise<AdapterEnvironmentTestResult> {
  const checks: AdapterEnvironmentCheck[] = [];
  await runChecks(ctx.config ?? {}, checks);
  const status = checks.some((c) => c.level === "error") ? "fail"
    : checks.some((c) => c.level === "warn") ? "warn" : "pass";
  return { adapterType: ADAPTER_TYPE, status, checks, testedAt: new Date().toISOString() };
}

async function runChecks(config: Record<string, unknown>, checks: AdapterEnvironmentCheck[]): Promise<void> {
  let socketPath: string;
  try {
    socketPath = readAdapterSettings(config).socketPath;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    checks.push({ code: "sidecar_config_invalid", level: "error", message: error.message });
    return;
  }
  const serve = `start \`paperclip-supervisor serve --socket ${socketPath}\` next to this Paperclip server`;

  try {
    const info = await stat(socketPath);
    if (!info.isSocket()) {
      checks.push({ code: "sidecar_socket_invalid", level: "error", message: `${socketPath} exists but is not a socket`, hint: serve });
      return;
    }
  } catch (error) {
    checks.push({
      code: "sidecar_socket_missing", level: "error",
      message: `no sidecar socket at ${socketPath} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`, hint: serve,
    });
    return;
  }

  const client = new SidecarClient(socketPath, TEST_TIMEOUT_MS);
  try {
    const version = await client.version();
    if (version.api !== API_VERSION) {
      checks.push({
        code: "sidecar_api_mismatch", level: "error",
        message: `the sidecar speaks API ${version.api}; this adapter needs ${API_VERSION}`,
        hint: "install matching versions of paperclip-supervisor and this adapter",
      });
      return;
    }
    checks.push({
      code: "sidecar_reachable", level: "info",
      message: `paperclip-supervisor ${version.version} answers on ${socketPath} (API ${version.api}, event schema ${version.eventSchema})`,
    });
  } catch (error) {
    checks.push({ code: "sidecar_unreachable", level: "error", message: (error as Error).message, hint: serve });
    return;
  }

  let health: HealthBody;
  try {
    health = await client.health();
  } catch (error) {
    checks.push({ code: "sidecar_health_failed", level: "error", message: `the sidecar's health check failed: ${(error as Error).message}` });
    return;
  }
  checks.push(componentCheck("event_log", "event log", health.db));
  if (isObject(health.cluster) && health.cluster.detail === NO_CLUSTER_DETAIL) {
    checks.push({
      code: "sidecar_cluster_not_configured", level: "warn",
      message: "the sidecar has no Kubernetes client configured: runs cannot create Jobs",
      hint: "run the sidecar in the cluster (service account) or give it --kubeconfig",
    });
  } else {
    checks.push(componentCheck("cluster", "Kubernetes API", health.cluster));
  }
  // Further components the sidecar reports (RBAC checks, say) are shown as they come.
  let extra = 0;
  for (const [name, value] of Object.entries(health)) {
    // rbac is a component like any other; the rest of HEALTH_FIELDS are handled above.
    if ((name !== "rbac" && (HEALTH_FIELDS as readonly string[]).includes(name)) || !isComponent(value)) continue;
    checks.push(componentCheck(snake(name), name, value));
    extra += 1;
  }
  if (Array.isArray(health.checks)) {
    for (const item of health.checks) {
      if (!isObject(item) || typeof item.ok !== "boolean") continue;
      const name = String(item.name ?? item.code ?? "check");
      checks.push(componentCheck(snake(name), name, { ok: item.ok, detail: String(item.detail ?? item.message ?? "") }));
      extra += 1;
    }
  }
  if (extra === 0) {
    checks.push({
      code: "sidecar_rbac_not_reported", level: "info",
      message: "this sidecar version reports no RBAC checks: check its service account against the Role in the sidecar's deployment example",
    });
  }
  checks.push({ code: "sidecar_active_runs", level: "info", message: `${health.activeRuns} run(s) active on the sidecar` });
}

function componentCheck(code: string, label: string, component: ComponentHealth): AdapterEnvironmentCheck {
  const detail = component.detail ?? "";
  return component.ok
    ? { code: `sidecar_${code}_ok`, level: "info", message: `${label}: ok${detail ? ` (${detail})` : ""}` }
    : { code: `sidecar_${code}_failed`, level: "error", message: `${label}: ${detail || "not ok"}` };
}

function isComponent(value: unknown): value is ComponentHealth {
  return isObject(value) && typeof value.ok === "boolean";
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_").toLowerCase();
}
