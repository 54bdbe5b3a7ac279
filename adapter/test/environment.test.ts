/** `testEnvironment` against the stub sidecar and against no sidecar at all. */

import assert from "node:assert/strict";
import { linkSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, it } from "node:test";

import type { AdapterEnvironmentTestResult } from "../src/contract.js";
import { testEnvironment } from "../src/environment-test.js";
import { StubSidecar } from "./helpers/stub-sidecar.js";

let stub: StubSidecar;

beforeEach(async () => {
  stub = await new StubSidecar().start();
});

afterEach(async () => {
  await stub.close();
});

function check(config: Record<string, unknown>): Promise<AdapterEnvironmentTestResult> {
  return testEnvironment({ companyId: "c", adapterType: "claude_k8s_sidecar", config });
}

const codes = (result: AdapterEnvironmentTestResult) => result.checks.map((c) => `${c.level}:${c.code}`);

describe("testEnvironment", () => {
  it("passes with a healthy sidecar and shows each health component", async () => {
    const result = await check({ socketPath: stub.socketPath });
    assert.equal(result.status, "pass");
    assert.equal(result.adapterType, "claude_k8s_sidecar");
    assert.deepEqual(codes(result), [
      "info:sidecar_reachable", "info:sidecar_event_log_ok", "info:sidecar_cluster_ok",
      "info:sidecar_rbac_not_reported", "info:sidecar_active_runs",
    ]);
    assert.match(result.checks[0]?.message ?? "", /paperclip-supervisor 0.1.0-stub answers on .*api\.sock \(API v1/);
  });

  it("fails with the sidecar's own words when the cluster or an RBAC check is not ok", async () => {
    stub.health = {
      ...stub.health, ok: false, cluster: { ok: false, detail: "cluster unreachable: connection refused" },
      rbac: { ok: false, detail: "cannot delete jobs in agents" },
    };
    const result = await check({ socketPath: stub.socketPath });
    assert.equal(result.status, "fail");
    assert.ok(codes(result).includes("error:sidecar_cluster_failed"));
    assert.ok(codes(result).includes("error:sidecar_rbac_failed"));
    assert.ok(!codes(result).includes("info:sidecar_rbac_not_reported"));
    assert.match(result.checks.find((c) => c.code === "sidecar_rbac_failed")?.message ?? "", /cannot delete jobs in agents/);
  });

  it("warns when the sidecar has no cluster client", async () => {
    stub.health = { ...stub.health, cluster: { ok: true, detail: "no cluster client configured" } };
    const result = await check({ socketPath: stub.socketPath });
    assert.equal(result.status, "warn");
    assert.ok(codes(result).includes("warn:sidecar_cluster_not_configured"));
  });

  it("fails on an API version it does not speak", async () => {
    stub.apiVersion = "v2";
    const result = await check({ socketPath: stub.socketPath });
    assert.equal(result.status, "fail");
    assert.deepEqual(codes(result), ["error:sidecar_api_mismatch"]);
  });

  it("fails with a hint to start the sidecar when there is no socket", async () => {
    const result = await check({ socketPath: `${stub.dir}/missing.sock` });
    assert.equal(result.status, "fail");
    assert.deepEqual(codes(result), ["error:sidecar_socket_missing"]);
    assert.match(result.checks[0]?.hint ?? "", /paperclip-supervisor serve --socket .*missing\.sock/);
  });

  it("fails when the path is not a socket, or nothing listens on it", async () => {
    const file = `${stub.dir}/plain-file`;
    writeFileSync(file, "");
    assert.deepEqual(codes(await check({ socketPath: file })), ["error:sidecar_socket_invalid"]);
    // A socket file left behind by a dead sidecar: a second name for the stub's socket outlives it.
    const stale = `${stub.dir}/stale.sock`;
    linkSync(stub.socketPath, stale);
    const other = await new StubSidecar().start();
    try {
      const dead = `${other.dir}/dead.sock`;
      linkSync(stale, dead);
      await stub.close();
      const result = await check({ socketPath: dead });
      assert.deepEqual(codes(result), ["error:sidecar_unreachable"]);
      assert.match(result.checks[0]?.message ?? "", /ECONNREFUSED/);
    } finally {
      stub = other;
    }
  });

  it("reports a config it cannot read", async () => {
    const result = await check({ socketPath: stub.socketPath, statusIntervalSec: 600 });
    assert.deepEqual(codes(result), ["error:sidecar_config_invalid"]);
  });
});
