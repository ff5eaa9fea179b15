/**
 * Step parameters are text with `{{ name }}` holes: an input of the playbook, a part of the alert
 * (`alert.id`, `alert.tenant`, `alert.host`, `alert.rule`, `alert.level`, `alert.techniques`), or
 * a fact an earlier enrich step found (`vulns.kev`).
 * Nothing else is evaluated: a template cannot run code or reach anything but these values.
 */
const HOLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export const ALERT_VALUES = [
  'alert.id',
  'alert.tenant',
  'alert.host',
  'alert.rule',
  'alert.level',
  'alert.techniques',
];

/** The names a template uses. */
export function templateNames(template: string): string[] {
  return [...template.matchAll(HOLE)].map((match) => match[1]!);
}

/** The template with each hole replaced by its value. */
export function fillTemplate(template: string, values: ReadonlyMap<string, string>): string {
  return template.replace(HOLE, (_, name: string) => values.get(name) ?? '');
}
