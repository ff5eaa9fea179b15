import type { FieldValue } from '../core/index.js';
import { toLogEvent } from '../logs/index.js';
import type { AlertFacts } from '../respond/index.js';
import type { AlertDetail } from './store.js';

/**
 * What a playbook is told of an alert: the alert, and the fields of its first detection (the
 * indicator it matched as `indicator.value` and `indicator.type`, what a correlation grouped on, what
 * matched, then every field of its event), so that an input such as `fields.IpAddress` finds the
 * address whether a rule matched on it or a correlation counted by it.
 */
export function alertFacts(alert: AlertDetail): AlertFacts {
  const fields: Record<string, FieldValue> = {};
  const add = (source: Readonly<Record<string, FieldValue>>) => {
    for (const [name, value] of Object.entries(source))
      if (!(name in fields) && value !== null) fields[name] = value;
  };
  const first = alert.detections[0];
  if (first) {
    const indicator = first.detection.indicator;
    if (indicator)
      add({
        'indicator.type': indicator.type,
        'indicator.value': indicator.value,
        'indicator.source': indicator.source,
        'indicator.confidence': indicator.confidence,
      });
    add(first.detection.correlation?.group ?? {});
    add(first.detection.matched);
    const event = first.events.at(-1);
    if (event && typeof event === 'object')
      add(toLogEvent(event as Parameters<typeof toLogEvent>[0], 'alert', first.seq).fields);
  }
  return {
    id: alert.id,
    tenant: alert.tenant,
    rule: alert.rule,
    host: alert.host,
    techniques: alert.techniques,
    tactics: [...new Set(alert.detections.flatMap((d) => d.detection.tactics))],
    fields,
  };
}
