/**
 * A Unix-socket proxy between the adapter and the real sidecar that can cut event streams: it
 * forwards bytes both ways untouched, and destroys an event-stream connection (a request line
 * containing `/events?`) once that many bytes of it have reached the adapter, for the first N.
 */

import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";

export class CuttingProxy {
  readonly dir = mkdtempSync("/tmp/pcs-px-");
  readonly socketPath = path.join(this.dir, "proxy.sock");
  /** How many event streams were cut so far. */
  cuts = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly target: string,
    private readonly cutAfterBytes: number,
    private readonly maxCuts: number,
  ) {
    this.server = net.createServer((client) => this.pipe(client));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pipe(client: net.Socket): void {
    const upstream = net.createConnection(this.target);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let isStream = false;
    let sent = 0;
    client.once("data", (first: Buffer) => {
      isStream = /^GET [^ ]*\/events\?/.test(first.toString("latin1"));
    });
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!isStream || this.cuts >= this.maxCuts || sent + chunk.length < this.cutAfterBytes) {
        sent += chunk.length;
        client.write(chunk);
        return;
      }
      // Deliver part of this chunk (usually mid-line), then break the connection.
      client.write(chunk.subarray(0, Math.max(0, this.cutAfterBytes - sent)));
      this.cuts += 1;
      isStream = false;
      client.destroy();
      upstream.destroy();
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    upstream.on("end", () => client.end());
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  }
}
