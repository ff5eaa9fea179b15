import { decodeValue, type EvtxValue, ValueError } from './values.js';

/**
 * Binary XML, the encoding of EVTX records: a stream of tokens (elements, attributes, values,
 * substitutions) where most records are an instance of a template defined once per chunk, plus
 * an array of typed substitution values. Templates are parsed once per chunk and cached.
 * Every read is bounds-checked: damaged bytes end in a BinXmlError, never in a crash.
 */

export class BinXmlError extends Error {}

/** An element of a parsed record, its values typed. */
export class XmlElement {
  constructor(
    readonly name: string,
    readonly attributes: [string, EvtxValue][],
    readonly children: (XmlElement | EvtxValue)[],
  ) {}
}

// Template nodes: elements and literal text, with substitutions still unresolved.
class TemplateElement {
  constructor(
    readonly name: string,
    readonly attributes: { name: string; parts: TemplatePart[] }[],
    readonly children: TemplateNode[],
  ) {}
}

class Substitution {
  constructor(
    readonly index: number,
    readonly optional: boolean,
  ) {}
}

/** A template instance met inside a fragment (a record, or a nested BinXml value). */
class Instance {
  constructor(
    readonly template: TemplateNode[],
    readonly values: ValueRef[],
  ) {}
}

type TemplatePart = string | Substitution;
type TemplateNode = TemplateElement | TemplatePart | Instance;

interface ValueRef {
  type: number;
  start: number;
  size: number;
}

const MAX_DEPTH = 64;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Parses the Binary XML of one chunk (64 KiB). All offsets are relative to the chunk's start. */
export class ChunkBinXml {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, TemplateNode[]>();
  private pos = 0;
  private end = 0;

  constructor(readonly buf: Buffer) {}

  private fail(message: string): never {
    throw new BinXmlError(`${message} at chunk offset ${this.pos}`);
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) this.fail(`${bytes} bytes needed past the end of the data`);
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  private utf16(chars: number): string {
    this.need(chars * 2);
    const text = this.buf.toString('utf16le', this.pos, this.pos + chars * 2);
    this.pos += chars * 2;
    return text;
  }

  /** A name by its chunk offset; when the offset is where we stand, the name is written here. */
  private name(): string {
    const offset = this.u32();
    if (offset === this.pos) {
      const name = this.readName(offset);
      const count = this.buf.readUInt16LE(offset + 6);
      this.pos = offset + 8 + count * 2 + 2;
      return name;
    }
    return this.readName(offset);
  }

  private plausibleName(offset: number, inlineAt: number): boolean {
    if (offset < 0) return false;
    if (offset === inlineAt) return true;
    return offset < inlineAt && offset >= 128 && offset + 8 <= this.buf.length;
  }

  private readName(offset: number): string {
    const cached = this.names.get(offset);
    if (cached !== undefined) return cached;
    if (offset + 8 > this.buf.length) this.fail(`name offset ${offset} outside the chunk`);
    const count = this.buf.readUInt16LE(offset + 6);
    if (offset + 8 + count * 2 > this.buf.length) this.fail(`name at ${offset} runs past the chunk`);
    const name = this.buf.toString('utf16le', offset + 8, offset + 8 + count * 2);
    this.names.set(offset, name);
    return name;
  }

  /** Parses a record's (or nested value's) fragment into elements with their values. */
  parseRecord(start: number, end: number): XmlElement[] {
    const nodes = this.fragment(start, end, 0);
    return render(nodes, [], this, 0);
  }

  private fragment(start: number, end: number, depth: number): TemplateNode[] {
    if (depth > MAX_DEPTH) this.fail('Binary XML nested too deep');
    const savedPos = this.pos;
    const savedEnd = this.end;
    this.pos = start;
    this.end = end;
    try {
      return this.content(depth, true);
    } finally {
      this.pos = savedPos;
      this.end = savedEnd;
    }
  }

  /** Tokens up to an end-of-element (or the end of the fragment at top level). */
  private content(depth: number, topLevel: boolean): TemplateNode[] {
    const nodes: TemplateNode[] = [];
    while (this.pos < this.end) {
      const token = this.buf[this.pos]!;
      switch (token & 0xbf) {
        case 0x00: // end of stream
          this.pos++;
          if (topLevel) return nodes;
          this.fail('end of stream inside an element');
          break;
        case 0x01:
          nodes.push(this.element(depth + 1));
          break;
        case 0x04: // end element
          if (topLevel) this.fail('end of element outside any element');
          this.pos++;
          return nodes;
        case 0x05:
        case 0x0d:
        case 0x0e:
        case 0x07:
        case 0x08:
        case 0x09:
          nodes.push(this.valuePart());
          break;
        case 0x0a: // processing instruction target, then data
          this.pos++;
          this.name();
          break;
        case 0x0b:
          this.pos++;
          this.utf16(this.u16());
          break;
        case 0x0c:
          nodes.push(this.instance(depth));
          break;
        case 0x0f: // fragment header: token, major, minor, flags
          this.need(4);
          this.pos += 4;
          break;
        default:
          this.fail(`unknown Binary XML token 0x${token.toString(16)}`);
      }
    }
    if (!topLevel) this.fail('element not closed before the end of the data');
    return nodes;
  }

  private element(depth: number): TemplateElement {
    if (depth > MAX_DEPTH) this.fail('elements nested too deep');
    const token = this.u8();
    // Records carry a 2-byte dependency id before the size and name offset; the elements of
    // nested Binary XML values may not. The name offset tells which: it points where the name is
    // written inline, or back to a name already in the chunk.
    const withId = this.pos + 6 + 4 <= this.end ? this.buf.readUInt32LE(this.pos + 6) : -1;
    const withoutId = this.pos + 4 + 4 <= this.end ? this.buf.readUInt32LE(this.pos + 4) : -1;
    if (this.plausibleName(withId, this.pos + 10)) this.pos += 6;
    else if (this.plausibleName(withoutId, this.pos + 8)) this.pos += 4;
    else this.fail('element name offset outside the chunk');
    const name = this.name();
    const attributes: { name: string; parts: TemplatePart[] }[] = [];
    if (token & 0x40) {
      this.u32(); // size of the attribute list
      for (;;) {
        const attributeToken = this.buf[this.pos];
        if (attributeToken === undefined || (attributeToken & 0xbf) !== 0x06) break;
        this.pos++;
        const attributeName = this.name();
        attributes.push({ name: attributeName, parts: this.valueParts() });
        if ((attributeToken & 0x40) === 0) break;
      }
    }
    const close = this.u8();
    if (close === 0x03) return new TemplateElement(name, attributes, []);
    if (close !== 0x02) this.fail(`expected the end of a start tag, found 0x${close.toString(16)}`);
    return new TemplateElement(name, attributes, this.content(depth, false));
  }

  /** The value pieces of an attribute: texts, references and substitutions, one after another. */
  private valueParts(): TemplatePart[] {
    const parts: TemplatePart[] = [];
    while (this.pos < this.end) {
      const kind = this.buf[this.pos]! & 0xbf;
      if (kind !== 0x05 && kind !== 0x0d && kind !== 0x0e && kind !== 0x08 && kind !== 0x09 && kind !== 0x07)
        break;
      parts.push(this.valuePart());
    }
    return parts;
  }

  private valuePart(): TemplatePart {
    const token = this.u8() & 0xbf;
    switch (token) {
      case 0x05: {
        const type = this.u8();
        if (type !== 0x01) this.fail(`literal value of type 0x${type.toString(16)}`);
        return this.utf16(this.u16());
      }
      case 0x07:
        return this.utf16(this.u16());
      case 0x08:
        return String.fromCharCode(this.u16());
      case 0x09: {
        const entity = this.name();
        return ENTITIES[entity] ?? `&${entity};`;
      }
      default: {
        const index = this.u16();
        this.u8(); // declared type: the value array says the actual one
        return new Substitution(index, token === 0x0e);
      }
    }
  }

  private instance(depth: number): Instance {
    this.pos++; // token
    this.u8(); // unknown, 1
    this.u32(); // template id
    const definition = this.u32();
    let template = this.templates.get(definition);
    if (definition === this.pos) {
      this.need(24);
      const size = this.buf.readUInt32LE(this.pos + 20);
      const dataStart = this.pos + 24;
      if (!template) template = this.fragmentWithin(dataStart, dataStart + size, depth + 1);
      this.pos = dataStart + size;
    } else if (!template) {
      if (definition + 24 > this.buf.length)
        this.fail(`template definition offset ${definition} outside the chunk`);
      const size = this.buf.readUInt32LE(definition + 20);
      template = this.fragmentWithin(definition + 24, definition + 24 + size, depth + 1);
    }
    this.templates.set(definition, template);
    const count = this.u32();
    this.need(count * 4);
    const values: ValueRef[] = [];
    let data = this.pos + count * 4;
    for (let i = 0; i < count; i++) {
      const size = this.buf.readUInt16LE(this.pos + i * 4);
      const type = this.buf[this.pos + i * 4 + 2]!;
      values.push({ type, start: data, size });
      data += size;
    }
    this.pos += count * 4;
    if (data > this.end) this.fail('substitution values run past the end of the record');
    this.pos = data;
    return new Instance(template, values);
  }

  private fragmentWithin(start: number, end: number, depth: number): TemplateNode[] {
    if (end > this.buf.length) this.fail('template runs past the end of the chunk');
    return this.fragment(start, end, depth);
  }

  /** A substitution value; nested Binary XML is parsed and rendered in place. */
  value(ref: ValueRef, depth: number): EvtxValue | XmlElement[] {
    if (ref.type === 0x21) {
      if (depth > MAX_DEPTH) this.fail('Binary XML values nested too deep');
      return render(this.fragment(ref.start, ref.start + ref.size, depth + 1), [], this, depth + 1);
    }
    try {
      return decodeValue(ref.type, this.buf, ref.start, ref.size);
    } catch (error) {
      if (error instanceof ValueError)
        throw new BinXmlError(`${error.message} (value at chunk offset ${ref.start})`);
      throw error;
    }
  }
}

function isEmpty(value: EvtxValue | XmlElement[]): boolean {
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** Template nodes with their substitution values filled in. */
function render(nodes: TemplateNode[], values: ValueRef[], chunk: ChunkBinXml, depth: number): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    if (node instanceof TemplateElement) out.push(...renderElement(node, values, chunk, depth));
    else if (node instanceof Instance) out.push(...render(node.template, node.values, chunk, depth));
  }
  return out;
}

/**
 * An element with its values. When its whole content is an array substitution, Windows writes
 * the element once per item (`<Data>%1</Data>` with three strings is three Data elements).
 */
function renderElement(
  node: TemplateElement,
  values: ValueRef[],
  chunk: ChunkBinXml,
  depth: number,
): XmlElement[] {
  const attributes: [string, EvtxValue][] = [];
  for (const attribute of node.attributes) {
    const value = joinParts(attribute.parts, values, chunk, depth);
    if (value !== undefined) attributes.push([attribute.name, value]);
  }
  const children: (XmlElement | EvtxValue)[] = [];
  const only = node.children.length === 1 ? node.children[0] : undefined;
  if (only instanceof Substitution) {
    const ref = values[only.index];
    if (ref && (ref.type & 0x80) !== 0) {
      const items = chunk.value(ref, depth) as EvtxValue[];
      return items.map((item) => new XmlElement(node.name, attributes, [item]));
    }
  }
  for (const child of node.children) {
    if (child instanceof TemplateElement) children.push(...renderElement(child, values, chunk, depth));
    else if (child instanceof Instance) children.push(...render(child.template, child.values, chunk, depth));
    else if (child instanceof Substitution) {
      const ref = values[child.index];
      if (!ref || ref.type === 0x00) continue;
      const value = chunk.value(ref, depth);
      if (Array.isArray(value) && value.length > 0 && value[0] instanceof XmlElement)
        children.push(...(value as XmlElement[]));
      else children.push(value as EvtxValue);
    } else children.push(child);
  }
  return [new XmlElement(node.name, attributes, children)];
}

/** An attribute's value: one piece keeps its type, several are joined as text; undefined drops it. */
function joinParts(
  parts: TemplatePart[],
  values: ValueRef[],
  chunk: ChunkBinXml,
  depth: number,
): EvtxValue | undefined {
  const pieces: EvtxValue[] = [];
  for (const part of parts) {
    if (part instanceof Substitution) {
      const ref = values[part.index];
      if (!ref || ref.type === 0x00) continue;
      const value = chunk.value(ref, depth);
      if (Array.isArray(value) && value.length > 0 && value[0] instanceof XmlElement) continue;
      if (part.optional && isEmpty(value)) continue;
      pieces.push(value as EvtxValue);
    } else pieces.push(part);
  }
  if (pieces.length === 0) return parts.length === 0 ? '' : undefined;
  if (pieces.length === 1) return pieces[0];
  return pieces.map(valueText).join('');
}

/** A value as text, the way it reads in XML. */
export function valueText(value: EvtxValue): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map(valueText).join(',');
  if (typeof value === 'object') return `{${value.text}}`;
  return String(value);
}
