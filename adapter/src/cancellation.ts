/**
 * Noticing that Paperclip wants the run stopped.
 *
 * Two sources: the run-scoped `AbortSignal` newer Paperclip servers pass as `ctx.signal`, and, for
 * servers that never tell an adapter (they only mark the run row `cancelled`), a poll of
 * `GET /api/heartbeat-runs/{runId}` with the run's own token. Only the status `cancelled` (or
 * `cancelling`) counts: any other status, an error or an unreadable answer leaves the run alone,
 * because deleting a live Job on a misread status loses real work.
 */

export const CANCELLED_STATUSES: ReadonlySet<string> = new Set(["cancelled", "cancelling"]);
const POLL_TIMEOUT_MS = 10_000;

export interface PaperclipPoll {
  apiUrl: string;
  authToken: string;
  runId: string;
  intervalMs: number;
}

export class CancelWatch {
  private requestedReason: string | null = null;
  private readonly listeners: Array<(reason: string) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private detach: (() => void) | null = null;
  private polling = false;
  /** The first poll failure, for one warning line (later ones are not reported). */
  pollError: unknown = null;
  onPollError: ((error: unknown) => void) | null = null;

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly poll: PaperclipPoll | null,
  ) {}

  /** Why the run is being cancelled, once it is. */
  get reason(): string | null {
    return this.requestedReason;
  }

  /** Call `listener` once when a cancel is requested (at once if it already was). */
  onRequested(listener: (reason: string) => void): void {
    if (this.requestedReason !== null) listener(this.requestedReason);
    else this.listeners.push(listener);
  }

  start(): void {
    if (this.signal) {
      if (this.signal.aborted) {
        this.request(abortReason(this.signal));
      } else {
        const onAbort = (): void => this.request(abortReason(this.signal as AbortSignal));
        this.signal.addEventListener("abort", onAbort, { once: true });
        this.detach = () => this.signal?.removeEventListener("abort", onAbort);
      }
    }
    if (this.poll && this.poll.intervalMs > 0 && this.requestedReason === null) {
      this.timer = setInterval(() => void this.pollOnce(), this.poll.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.detach?.();
    this.detach = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ask Paperclip once whether the run was cancelled (the timer calls this). */
  async pollOnce(): Promise<void> {
    const poll = this.poll;
    if (!poll || this.polling || this.requestedReason !== null) return;
    this.polling = true;
    try {
      const status = await paperclipRunStatus(poll);
      if (status !== null && CANCELLED_STATUSES.has(status)) {
        this.request(`Paperclip marked run ${poll.runId} ${status}`);
      }
    } catch (error) {
      if (this.pollError === null) {
        this.pollError = error;
        this.onPollError?.(error);
      }
    } finally {
      this.polling = false;
    }
  }

  private request(reason: string): void {
    if (this.requestedReason !== null) return;
    this.requestedReason = reason;
    this.stop();
    for (const listener of this.listeners.splice(0)) listener(reason);
  }
}

/** The run's status as Paperclip reports it, or null when the answer has none. */
export async function paperclipRunStatus(poll: PaperclipPoll): Promise<string | null> {
  const response = await fetch(`${poll.apiUrl}/api/heartbeat-runs/${encodeURIComponent(poll.runId)}`, {
    headers: { authorization: `Bearer ${poll.authToken}`, accept: "application/json" },
    signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`Paperclip answered HTTP ${response.status} for the run's status`);
  const body = (await response.json()) as unknown;
  if (typeof body !== "object" || body === null) return null;
  const record = body as Record<string, unknown>;
  const run = typeof record.run === "object" && record.run !== null ? (record.run as Record<string, unknown>) : record;
  return typeof run.status === "string" ? run.status : null;
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === "string" && reason) return `Paperclip cancelled the run: ${reason}`;
  if (reason instanceof Error && reason.name !== "AbortError" && reason.message) {
    return `Paperclip cancelled the run: ${reason.message}`;
  }
  return "Paperclip cancelled the run";
}
