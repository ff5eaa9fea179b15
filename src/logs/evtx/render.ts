import type { FieldValue } from '../../core/index.js';
import { valueText, XmlElement } from './binxml.js';
import type { EvtxValue } from './values.js';

/**
 * A parsed record in the JSON form `evtx_dump` writes: attributes under `#attributes`, text under
 * `#text` when an element also has attributes or children, `Data` elements of EventData keyed by
 * their Name (unnamed ones gathered in `Data.#text`), empty elements as null. Vigil's JSON reader
 * reads this very form, so an `.evtx` and its JSON dump give the same fields.
 */
export function elementToJson(element: XmlElement): FieldValue {
  const attributes = attributesToJson(element.attributes);
  const texts: FieldValue[] = [];
  let elements = 0;
  for (const child of element.children) {
    if (child instanceof XmlElement) elements++;
    else texts.push(jsonValue(child));
  }
  if (elements === 0) {
    if (texts.length === 0) return attributes ? { '#attributes': attributes } : null;
    const text = texts.length === 1 ? texts[0]! : texts.map(textOf).join('');
    return attributes ? { '#attributes': attributes, '#text': text } : text;
  }
  // No prototype: a Data item named "toString" or "__proto__" is a field like any other.
  const out: Record<string, FieldValue> = Object.create(null);
  if (attributes) out['#attributes'] = attributes;
  const unnamedData: FieldValue[] = [];
  for (const child of element.children) {
    if (!(child instanceof XmlElement)) continue;
    let key = child.name;
    let value: FieldValue;
    const named = child.name === 'Data' ? child.attributes.find(([name]) => name === 'Name') : undefined;
    if (named) {
      key = valueText(named[1]);
      value = elementToJson(
        new XmlElement(
          child.name,
          child.attributes.filter((a) => a !== named),
          child.children,
        ),
      );
    } else if (child.name === 'Data' && child.attributes.length === 0) {
      unnamedData.push(elementToJson(child));
      continue;
    } else {
      value = elementToJson(child);
    }
    if (key in out) {
      let n = 1;
      while (`${key}_${n}` in out) n++;
      key = `${key}_${n}`;
    }
    out[key] = value;
  }
  if (unnamedData.length) out.Data = { '#text': unnamedData };
  if (texts.length) out['#text'] = texts.length === 1 ? texts[0]! : texts.map(textOf).join('');
  return out;
}

function attributesToJson(attributes: [string, EvtxValue][]): Record<string, FieldValue> | undefined {
  if (attributes.length === 0) return undefined;
  const out: Record<string, FieldValue> = Object.create(null);
  for (const [name, value] of attributes) out[name] = jsonValue(value);
  return out;
}

function jsonValue(value: EvtxValue): FieldValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => jsonValue(v) as FieldValue);
  return value.text;
}

function textOf(value: FieldValue): string {
  if (value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => XML_ESCAPES[c]!);
}

/** A parsed record as XML text, indented, as Windows' event viewer shows it. */
export function elementToXml(element: XmlElement, indent = ''): string {
  const attributes = element.attributes
    .map(([name, value]) => ` ${name}="${escapeXml(valueText(value))}"`)
    .join('');
  if (element.children.length === 0) return `${indent}<${element.name}${attributes}/>`;
  const hasElements = element.children.some((child) => child instanceof XmlElement);
  if (!hasElements) {
    const text = element.children.map((child) => escapeXml(valueText(child as EvtxValue))).join('');
    return `${indent}<${element.name}${attributes}>${text}</${element.name}>`;
  }
  const inner = element.children
    .map((child) =>
      child instanceof XmlElement
        ? elementToXml(child, `${indent}  `)
        : `${indent}  ${escapeXml(valueText(child))}`,
    )
    .join('\n');
  return `${indent}<${element.name}${attributes}>\n${inner}\n${indent}</${element.name}>`;
}
