// A campaign body's `{{ field }}` placeholders, rendered the way the sender renders them: every value
// HTML-escaped. The preview is shown in a sandboxed frame (no scripts), so the body's own HTML cannot act.

/** The fields a body may name (API.md, decision 0018); any other name is a 422 on `body` when saved. */
export const TEMPLATE_FIELDS = ["first_name", "last_name", "email", "title", "company_name", "unsubscribe_url"] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type Example = Record<TemplateField, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#x27;");
}

/** The names a body uses that are not template fields (the API refuses them when it is saved). */
export function unknownFields(body: string): string[] {
  const known = new Set<string>(TEMPLATE_FIELDS);
  return [...new Set([...body.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ""))].filter((name) => !known.has(name));
}

/** The body with each known field replaced by the example's value, escaped; an unknown one stays as typed. */
export function renderBody(body: string, example: Example): string {
  return body.replace(PLACEHOLDER, (whole, name: string) =>
    (TEMPLATE_FIELDS as readonly string[]).includes(name) ? escapeHtml(example[name as TemplateField] ?? "") : whole,
  );
}
