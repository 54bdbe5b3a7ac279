/**
 * The transcript parser Paperclip's UI loads for this adapter (`exports["./ui-parser"]`).
 *
 * It turns each line the adapter logged — Claude's stream-json lines and the adapter's own
 * `[paperclip-sidecar]` status lines — into transcript entries. Paperclip evaluates this file on
 * its own in the browser, so it must import nothing at runtime (only types, which the compiler
 * erases; a test checks the built file).
 */

import type { TranscriptEntry } from "./contract.js";

const STATUS_PREFIX = "[paperclip-sidecar]";

type Json = Record<string, unknown>;

/** Parse one logged line into transcript entries (never throws). */
export function parseStdoutLine(line: string, ts: string): TranscriptEntry[] {
  const text = line.replace(/\r?\n$/, "");
  if (!text.trim()) return [];
  if (text.startsWith(STATUS_PREFIX)) return [{ kind: "system", ts, text: text.slice(STATUS_PREFIX.length).trim() }];
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    return [{ kind: "stdout", ts, text }];
  }
  if (!isJson(event)) return [{ kind: "stdout", ts, text }];
  switch (event.type) {
    case "system":
      return event.subtype === "init"
        ? [{ kind: "init", ts, model: str(event.model), sessionId: str(event.session_id) }]
        : [];
    case "assistant":
      return assistantEntries(event, ts);
    case "user":
      return userEntries(event, ts);
    case "result":
      return [resultEntry(event, ts)];
    default:
      return [];
  }
}

/** Paperclip's stateful-parser shape; this parser keeps no state between lines. */
export function createStdoutParser(): { parseLine: typeof parseStdoutLine; reset: () => void } {
  return { parseLine: parseStdoutLine, reset: () => undefined };
}

function assistantEntries(event: Json, ts: string): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const block of contentOf(event)) {
    if (block.type === "text" && str(block.text)) entries.push({ kind: "assistant", ts, text: str(block.text) });
    else if (block.type === "thinking" && str(block.thinking)) entries.push({ kind: "thinking", ts, text: str(block.thinking) });
    else if (block.type === "tool_use") {
      entries.push({ kind: "tool_call", ts, name: str(block.name), input: block.input ?? {}, toolUseId: str(block.id) });
    }
  }
  return entries;
}

function userEntries(event: Json, ts: string): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  const message = isJson(event.message) ? event.message : {};
  if (typeof message.content === "string" && message.content.trim()) {
    return [{ kind: "user", ts, text: message.content }];
  }
  for (const block of contentOf(event)) {
    if (block.type === "tool_result") {
      entries.push({
        kind: "tool_result", ts, toolUseId: str(block.tool_use_id), content: resultText(block.content), isError: block.is_error === true,
      });
    } else if (block.type === "text" && str(block.text)) {
      entries.push({ kind: "user", ts, text: str(block.text) });
    }
  }
  return entries;
}

function resultEntry(event: Json, ts: string): TranscriptEntry {
  const usage = isJson(event.usage) ? event.usage : {};
  const errors = Array.isArray(event.errors) ? event.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))) : [];
  return {
    kind: "result",
    ts,
    text: str(event.result),
    inputTokens: num(usage.input_tokens),
    outputTokens: num(usage.output_tokens),
    cachedTokens: num(usage.cache_read_input_tokens),
    costUsd: num(event.total_cost_usd),
    subtype: str(event.subtype),
    isError: event.is_error === true,
    errors,
  };
}

function contentOf(event: Json): Json[] {
  const message = isJson(event.message) ? event.message : {};
  return Array.isArray(message.content) ? message.content.filter(isJson) : [];
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (isJson(part) && typeof part.text === "string" ? part.text : JSON.stringify(part))).join("\n");
  }
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
