/**
 * Splitting text into complete lines: NDJSON streams arrive in arbitrary chunks, and a
 * `log.chunk` event may carry several lines that must reach `onLog` one per call.
 */

/** Accumulates text and hands out complete lines (each keeps its trailing `\n`). */
export class LineBuffer {
  private pending = "";

  /** Add text; return the lines it completed. */
  push(text: string): string[] {
    this.pending += text;
    const lines: string[] = [];
    let start = 0;
    for (let end = this.pending.indexOf("\n"); end !== -1; end = this.pending.indexOf("\n", start)) {
      lines.push(this.pending.slice(start, end + 1));
      start = end + 1;
    }
    this.pending = this.pending.slice(start);
    return lines;
  }

  /** The text after the last newline (an unterminated last line), and forget it. */
  flush(): string {
    const rest = this.pending;
    this.pending = "";
    return rest;
  }
}

/** The lines of `text`, each with its `\n`; an unterminated last line is kept as it is. */
export function splitLines(text: string): string[] {
  const buffer = new LineBuffer();
  const lines = buffer.push(text);
  const rest = buffer.flush();
  if (rest) lines.push(rest);
  return lines;
}
