import { Parser } from 'htmlparser2';
import type { FieldValue } from '../core/index.js';
import { newFields } from './windows-json.js';

type JsonObject = { [key: string]: FieldValue };

/** Whether a text is a Windows-schema event in XML (`<Event …>`, spaces before it allowed). */
export function isEventXml(text: string, start = 0): boolean {
  while (text.charCodeAt(start) <= 0x20 && start < text.length) start++;
  return text.startsWith('<Event', start) && (text[start + 6] === '>' || text[start + 6] === ' ');
}

const NUMBER = /^\d{1,15}$/;

/** Entities without their `;`, which Sysmon for Linux writes (`&lt unknown process&gt`). */
const LEGACY_ENTITY = /&(lt|gt|amp|quot|apos)(?![;\w])/g;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * A Windows-schema event in XML, as Windows' event APIs render it and Sysmon for Linux writes it
 * to syslog, in the nested form `evtx_dump` writes (`{Event: {System: …, EventData: {Name: value}}}`),
 * which `toLogEvent` reads into Sigma's fields. `System` values that are whole numbers become
 * numbers, as in EVTX; data items stay text. A cut-off event (a syslog line truncated by its
 * sender) gives what was complete, and says it was `cut`.
 */
export function parseEventXml(text: string): { record: JsonObject; cut: boolean } | undefined {
  const root = newFields();
  /** Open elements: their object, and the text gathered for them. */
  const stack: { name: string; node: JsonObject; text: string; dataName?: string }[] = [];
  let section: 'System' | 'EventData' | 'UserData' | undefined;
  let cut = false;
  let ending = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        const parent = stack.at(-1);
        if (!parent && name !== 'Event') return;
        if (parent?.name === 'Event' && (name === 'System' || name === 'EventData' || name === 'UserData')) {
          section = name;
        }
        const node = newFields();
        const names = Object.keys(attributes);
        if (names.length && !(section === 'EventData' && name === 'Data')) {
          const values = newFields();
          for (const attribute of names) values[attribute] = typed(attributes[attribute]!);
          node['#attributes'] = values;
        }
        stack.push({ name, node, text: '', dataName: name === 'Data' ? attributes.Name : undefined });
      },
      ontext(chunk) {
        const top = stack.at(-1);
        if (top)
          top.text += chunk.includes('&')
            ? chunk.replace(LEGACY_ENTITY, (_, name: string) => ENTITIES[name]!)
            : chunk;
      },
      onclosetag(name) {
        const top = stack.at(-1);
        if (!top || top.name !== name) return;
        stack.pop();
        // Elements still open when the text ends were cut off with it.
        const implied = ending;
        if (implied) cut = true;
        const parent = stack.at(-1);
        if (!parent) {
          root.Event = top.node;
          return;
        }
        const text = top.text.trim() === '' && Object.keys(top.node).length ? undefined : top.text;
        if (parent.name === 'EventData' && name === 'Data') {
          if (implied) return; // a value cut in the middle is not the value
          const key = top.dataName ?? `param${Object.keys(parent.node).length + 1}`;
          if (!(key in parent.node)) parent.node[key] = top.text;
          return;
        }
        let value: FieldValue = top.node;
        if (text === '' && Object.keys(top.node).length === 0) value = null;
        else if (text !== undefined) {
          const scalar = section === 'System' ? typed(text) : text;
          value = Object.keys(top.node).length ? Object.assign(top.node, { '#text': scalar }) : scalar;
        }
        if (!(name in parent.node)) parent.node[name] = value;
        if (name === section) section = undefined;
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  ending = true;
  parser.end(); // closes what a cut-off event left open
  const event = root.Event;
  if (!event || typeof event !== 'object' || Array.isArray(event) || !('System' in event)) return undefined;
  return { record: root, cut };
}

function typed(text: string): FieldValue {
  return NUMBER.test(text) ? Number(text) : text;
}
