/**
 * The real thing for end-to-end tests: the Kubernetes simulator and `paperclip-supervisor serve`
 * as subprocesses, from the Python project this adapter lives in (its `.venv`).
 *
 * Resource handling: every process started here is killed when the rig stops, and with SIGKILL
 * when the test process exits for any reason; the simulator also stops with its parent.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { SidecarClient } from "../../src/sidecar-client.js";

/** The repository root (the compiled helper lives in adapter/dist/test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const VENV_BIN = process.env.PAPERCLIP_SUPERVISOR_VENV_BIN ?? path.join(REPO_ROOT, ".venv", "bin");
export const PYTHON = path.join(VENV_BIN, "python");
export const SUPERVISOR = path.join(VENV_BIN, "paperclip-supervisor");
export const NAMESPACE = "agents";
const IMAGE = "registry.example/paperclip-agent:1";
const START_TIMEOUT_MS = 30_000;

/** Why the end-to-end tests cannot run here, or null when they can. */
export function rigUnavailable(): string | null {
  if (!existsSync(SUPERVISOR) || !existsSync(PYTHON)) {
    return `the Python daemon is not installed: ${SUPERVISOR} is missing (run \`python3 -m venv .venv && .venv/bin/pip install -e '.[test]'\` in ${REPO_ROOT})`;
  }
  return null;
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Start a subprocess that is always killed when the test process ends. */
export function startProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Managed {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return new Managed(child, `${path.basename(command)} ${args.slice(0, 2).join(" ")}`);
}

export class Managed {
  stderr = "";
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.stderr = (this.stderr + text).slice(-20_000);
    });
    this.exited = child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : once(child, "exit").then(() => undefined);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  describe(): string {
    return `${this.label} (exit ${this.child.exitCode ?? this.child.signalCode ?? "running"}); stderr tail:\n${this.stderr.slice(-4_000)}`;
  }
}

/** One simulated cluster and one daemon using it, each in its own process. */
export class Rig {
  readonly dir = mkdtempSync("/tmp/pcs-ad-"); // short: Unix socket paths are capped at 108 bytes
  readonly socketPath = path.join(this.dir, "api.sock");
  readonly dbPath = path.join(this.dir, "events.db");
  readonly configPath = path.join(this.dir, "supervisor.toml");
  simUrl = "";
  sim: Managed | null = null;
  daemon: Managed | null = null;

  /** Start the simulator and the daemon; resolves once the daemon answers on its socket. */
  async start(): Promise<this> {
    const kubeconfig = path.join(this.dir, "kubeconfig");
    this.sim = startProcess(PYTHON, [
      "-m", "kubesim", "serve", "--kubeconfig-out", kubeconfig, "--namespace", NAMESPACE,
      "--work-dir", path.join(this.dir, "sim"), "--exit-with-parent",
    ]);
    this.simUrl = await firstLine(this.sim);
    writeFileSync(this.configPath, [
      `db_path = ${JSON.stringify(this.dbPath)}`,
      `socket_path = ${JSON.stringify(this.socketPath)}`,
      `kubeconfig = ${JSON.stringify(kubeconfig)}`,
      `namespace = ${JSON.stringify(NAMESPACE)}`,
      "keepalive_interval_sec = 0.5",
      "[agent]",
      `image = ${JSON.stringify(IMAGE)}`,
      "",
    ].join("\n"));
    await this.startDaemon();
    return this;
  }

  async startDaemon(): Promise<void> {
    this.daemon = startProcess(SUPERVISOR, ["serve", "--config", this.configPath, "--log-format", "console"]);
    await waitForSidecar(this.socketPath, this.daemon);
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    await this.sim?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the pod's claude container printed, from the simulator's ground truth. */
  async printed(pod: string): Promise<string> {
    const response = await fetch(`${this.simUrl}/_kubesim/output/${NAMESPACE}/${pod}/claude`);
    if (!response.ok) throw new Error(`kubesim output of ${pod}: HTTP ${response.status}`);
    const body = (await response.json()) as { lines: Array<{ text: string; newline: boolean }> };
    return body.lines.map((line) => line.text + (line.newline ? "\n" : "")).join("");
  }

  /** The Jobs of ours in the simulated namespace. */
  async jobs(): Promise<string[]> {
    const response = await fetch(`${this.simUrl}/apis/batch/v1/namespaces/${NAMESPACE}/jobs`);
    const body = (await response.json()) as { items: Array<{ metadata: { name: string } }> };
    return body.items.map((job) => job.metadata.name);
  }
}

/** Resolve once the sidecar answers `/v1/version` (or fail with the process's stderr). */
export async function waitForSidecar(socketPath: string, process: Managed): Promise<void> {
  const client = new SidecarClient(socketPath, 2_000);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!process.running) throw new Error(`the daemon exited before answering: ${process.describe()}`);
    try {
      await client.version();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`the daemon did not answer within ${START_TIMEOUT_MS} ms: ${process.describe()}`);
      await sleep(50);
    }
  }
}

async function firstLine(managed: Managed): Promise<string> {
  const stdout = managed.child.stdout;
  if (!stdout) throw new Error(`${managed.label}: no stdout`);
  const lines = createInterface({ input: stdout });
  const timer = setTimeout(() => void managed.kill(), START_TIMEOUT_MS);
  try {
    for await (const line of lines) {
      if (line.trim()) return line.trim();
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${managed.label} printed no URL: ${managed.describe()}`);
}
