// The one escaping rule of the HTML report: every interpolated value is escaped unless it is markup
// built by this same tag. Product ids, reasons and example details come from user files and topics.

/** Markup that is already safe (built by `html`, or a constant of this module). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Markup = Html | string | number | boolean | null | undefined | readonly Markup[];

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for element content and quoted attribute values. The only escape function of the report. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: Markup): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value as string | number | true); // Array.isArray does not narrow a readonly array away
}

/** Tagged template: `html\`<td>${productId}</td>\`` escapes productId; nested `html` fragments pass through. */
export function html(strings: TemplateStringsArray, ...values: Markup[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Joins fragments (escaping plain strings) into one fragment. */
export function join(parts: readonly Markup[], sep: Markup = ""): Html {
  return new Html(parts.map(render).join(render(sep)));
}

/** For constants written in this code base only (the stylesheet): never for run data. */
export function trusted(constant: string): Html {
  return new Html(constant);
}
