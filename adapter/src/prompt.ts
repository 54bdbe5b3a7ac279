/**
 * The prompt a run sends to Claude, assembled on the Paperclip side from the run's context.
 *
 * Sections, in order, blank ones skipped: the bootstrap template (fresh sessions only), the wake
 * payload, the session handoff notes, the task, then the heartbeat prompt template. Templates use
 * Paperclip's `{{ dotted.path }}` placeholders over `{agent, run, runId, context, taskKey}`.
 */

export const DEFAULT_PROMPT_TEMPLATE =
  "You are agent {{agent.id}} ({{agent.name}}). Continue your Paperclip work.";

export interface PromptInput {
  agent: { id: string; name: string; companyId: string };
  runId: string;
  taskKey: string | null;
  context: Record<string, unknown>;
  config: Record<string, unknown>;
  /** True when the run resumes an existing Claude session. */
  resumed: boolean;
}

/** Build the prompt; never blank (the default template always renders text). */
export function buildPrompt(input: PromptInput): string {
  const data: Record<string, unknown> = {
    agent: input.agent,
    run: { id: input.runId },
    runId: input.runId,
    taskKey: input.taskKey,
    context: input.context,
  };
  const template = textOf(input.config.promptTemplate) ?? DEFAULT_PROMPT_TEMPLATE;
  const bootstrap = input.resumed ? undefined : textOf(input.config.bootstrapPromptTemplate);
  const sections = [
    bootstrap === undefined ? "" : renderTemplate(bootstrap, data),
    wakeSection(input.context.paperclipWake),
    textOf(input.context.paperclipSessionHandoffMarkdown) ?? "",
    textOf(input.context.paperclipTaskMarkdown) ?? "",
    renderTemplate(template, data),
  ];
  const prompt = sections.map((section) => section.trim()).filter(Boolean).join("\n\n");
  return prompt || renderTemplate(DEFAULT_PROMPT_TEMPLATE, data);
}

/**
 * Replace `{{ path }}` placeholders by walking dotted keys of `data`: missing or null values
 * become "", strings are inserted as they are, other values as JSON.
 */
export function renderTemplate(template: string, data: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_match, path: string) => {
    let value: unknown = data;
    for (const part of path.split(".")) {
      value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined || value === null) return "";
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return JSON.stringify(value);
  });
}

/** The wake payload as a prompt section: text as is, structured payloads as JSON. */
function wakeSection(wake: unknown): string {
  if (wake === undefined || wake === null) return "";
  if (typeof wake === "string") return wake;
  return `## Paperclip wake\n\n\`\`\`json\n${JSON.stringify(wake, null, 2)}\n\`\`\``;
}

function textOf(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value : undefined;
}
