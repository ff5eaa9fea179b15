import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectFiles, type LogEvent, type VigilError } from '../../src/core/index.js';
import { XmlElement } from '../../src/logs/evtx/binxml.js';
import { crc32, crc32InJs } from '../../src/logs/evtx/crc32.js';
import { CHUNK_SIZE, FILE_HEADER_SIZE } from '../../src/logs/evtx/reader.js';
import { decodeValue, fileTime, Guid } from '../../src/logs/evtx/values.js';
import { type EvtxRecord, elementToJson, readEvtxEvents, recordToEvent } from '../../src/logs/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

async function readAll(file: string): Promise<{ events: LogEvent[]; errors: VigilError[] }> {
  const events: LogEvent[] = [];
  const errors: VigilError[] = [];
  for await (const event of readEvtxEvents(file, { onError: (e) => errors.push(e) })) events.push(event);
  return { events, errors };
}

const b = (...bytes: number[]) => Buffer.from(bytes);

describe('CRC-32', () => {
  it('is the IEEE CRC-32, natively and in JavaScript alike, over a range and continued from a seed', () => {
    const check = Buffer.from('xx123456789yy');
    for (const crc of [crc32, crc32InJs]) {
      expect(crc(check, 2, 11)).toBe(0xcbf43926);
      expect(crc(check, 6, 11, crc(check, 2, 6))).toBe(0xcbf43926);
    }
    const random = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    expect(crc32(random, 3, 4999)).toBe(crc32InJs(random, 3, 4999));
  });
});

describe('EVTX value types', () => {
  it('strings: UTF-16 up to the NUL, trailing whitespace trimmed as evtx_dump does; ANSI', () => {
    expect(decodeValue(0x01, Buffer.from('cmd.exe \r\n\u0000', 'utf16le'), 0, 22)).toBe('cmd.exe');
    expect(decodeValue(0x01, Buffer.from('  a', 'utf16le'), 0, 6)).toBe('  a');
    expect(decodeValue(0x02, Buffer.from('abc\u0000', 'latin1'), 0, 4)).toBe('abc');
  });

  it('integers of each width, signed and unsigned, and hex integers', () => {
    expect(decodeValue(0x03, b(0xff), 0, 1)).toBe(-1);
    expect(decodeValue(0x04, b(0xff), 0, 1)).toBe(255);
    expect(decodeValue(0x05, b(0xfe, 0xff), 0, 2)).toBe(-2);
    expect(decodeValue(0x06, b(0xfe, 0xff), 0, 2)).toBe(65534);
    expect(decodeValue(0x07, b(0xff, 0xff, 0xff, 0xff), 0, 4)).toBe(-1);
    expect(decodeValue(0x08, b(0xff, 0xff, 0xff, 0xff), 0, 4)).toBe(4294967295);
    expect(decodeValue(0x09, b(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, 8)).toBe(-2);
    expect(decodeValue(0x0a, b(0x10, 0x27, 0, 0, 0, 0, 0, 0), 0, 8)).toBe(10000);
    expect(decodeValue(0x14, b(0xe7, 0x03, 0, 0), 0, 4)).toBe('0x3e7');
    expect(decodeValue(0x15, b(0, 0, 0, 0, 0, 0, 0, 0x80), 0, 8)).toBe('0x8000000000000000');
    expect(decodeValue(0x10, b(0x10, 0, 0, 0, 0, 0, 0, 0), 0, 8)).toBe('0x10');
    expect(decodeValue(0x10, b(0x10, 0, 0, 0), 0, 4)).toBe('0x10');
  });

  it('floats, booleans, binary', () => {
    const real = Buffer.alloc(12);
    real.writeFloatLE(1.5, 0);
    real.writeDoubleLE(-2.25, 4);
    expect(decodeValue(0x0b, real, 0, 4)).toBe(1.5);
    expect(decodeValue(0x0c, real, 4, 8)).toBe(-2.25);
    expect(decodeValue(0x0d, b(1, 0, 0, 0), 0, 4)).toBe(true);
    expect(decodeValue(0x0d, b(0, 0, 0, 0), 0, 4)).toBe(false);
    expect(decodeValue(0x0e, b(0xde, 0xad, 0x01), 0, 3)).toBe('DEAD01');
  });

  it('GUID, SID, FILETIME, SYSTEMTIME', () => {
    const guid = b(
      0x5f,
      0x38,
      0x70,
      0x57,
      0x2a,
      0xc2,
      0xe0,
      0x43,
      0xbf,
      0x4c,
      0x06,
      0xf5,
      0x69,
      0x8f,
      0xfb,
      0xd9,
    );
    expect(decodeValue(0x0f, guid, 0, 16)).toEqual(new Guid('5770385F-C22A-43E0-BF4C-06F5698FFBD9'));
    const sid = b(1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0);
    expect(decodeValue(0x13, sid, 0, 16)).toBe('S-1-5-32-544');
    const ft = Buffer.alloc(8);
    ft.writeBigUInt64LE((BigInt(Date.UTC(2019, 4, 21, 15, 32, 57, 286)) + 11644473600000n) * 10000n + 2546n);
    expect(decodeValue(0x11, ft, 0, 8)).toBe('2019-05-21T15:32:57.286254Z');
    expect(fileTime(0n)).toBe('1601-01-01T00:00:00.000000Z');
    const st = Buffer.alloc(16);
    for (const [i, v] of [2024, 3, 2, 5, 23, 45, 12, 7].entries()) st.writeUInt16LE(v, i * 2);
    expect(decodeValue(0x12, st, 0, 16)).toBe('2024-03-05T23:45:12.007000Z');
  });

  it('arrays of each kind', () => {
    expect(decodeValue(0x81, Buffer.from('a\u0000bc\u0000\u0000', 'utf16le'), 0, 12)).toEqual([
      'a',
      'bc',
      '',
    ]);
    expect(decodeValue(0x86, b(1, 0, 2, 0), 0, 4)).toEqual([1, 2]);
    expect(decodeValue(0x88, b(1, 0, 0, 0, 2, 0, 0, 0), 0, 8)).toEqual([1, 2]);
    expect(decodeValue(0x94, b(1, 0, 0, 0), 0, 4)).toEqual(['0x1']);
  });

  it('a value shorter than its type is an error, not garbage', () => {
    expect(() => decodeValue(0x08, b(1, 2), 0, 2)).toThrow(/needs 4 bytes/);
    expect(() => decodeValue(0x13, b(1, 5, 0, 0, 0, 0, 0, 5), 0, 8)).toThrow(/SID/);
    expect(() => decodeValue(0x01, b(1, 2), 0, 10)).toThrow(/past the end/);
  });
});

describe('EVTX records as JSON', () => {
  const data = (name: string, text: string) => new XmlElement('Data', [['Name', name]], [text]);

  it('keeps Data items named like members of every JavaScript object under their own names', () => {
    const event = new XmlElement(
      'Event',
      [],
      [
        new XmlElement('System', [], [new XmlElement('EventID', [], [4688])]),
        new XmlElement(
          'EventData',
          [],
          [data('__proto__', 'a'), data('toString', 'b'), data('constructor', 'c'), data('toString', 'd')],
        ),
      ],
    );
    expect(JSON.stringify(elementToJson(event))).toBe(
      '{"System":{"EventID":4688},"EventData":{"__proto__":"a","toString":"b","constructor":"c","toString_1":"d"}}',
    );
    const record: EvtxRecord = { chunk: 0, id: 1, written: '2024-01-01T00:00:00.000Z', event };
    const { fields } = recordToEvent(record, 'x.evtx');
    expect(Object.hasOwn(fields, 'toString') && fields.toString).toBe('b');
    expect(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value).toBe('a');
  });
});

describe.skipIf(!hasContent)('EVTX files (reference content)', () => {
  const samples = () => contentPath('..', 'datasets', 'evtx-attack-samples');
  const multiChunk = () => join(samples(), 'Command and Control', 'bits_openvpn.evtx');

  it('reads every record of every file of EVTX-ATTACK-SAMPLES without a problem', async () => {
    const { files } = await collectFiles([samples()], ['.evtx']);
    expect(files).toHaveLength(277);
    let records = 0;
    const errors: VigilError[] = [];
    for (const file of files) {
      for await (const event of readEvtxEvents(file, { onError: (e) => errors.push(e) })) {
        records++;
        expect(event.fields.EventID, file).toBeDefined();
        expect(event.fields.Computer, file).toBeTypeOf('string');
        expect(event.time, file).toBeTypeOf('number');
      }
    }
    expect(errors.map((e) => e.describe())).toEqual([]);
    expect(records).toBe(8255);
  });

  it('reads a multi-chunk file chunk after chunk, in order', async () => {
    const { events, errors } = await readAll(multiChunk());
    expect(errors).toEqual([]);
    expect(events.length).toBeGreaterThan(1000);
    const ids = events.map((e) => e.source.record);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(events[0]!.fields).toMatchObject({ Channel: 'Microsoft-Windows-Bits-Client/Operational' });
  });

  async function copy(mutate: (bytes: Buffer) => Buffer): Promise<string> {
    const bytes = mutate(Buffer.from(await readFile(multiChunk())));
    const dir = await mkdtemp(join(tmpdir(), 'vigil-evtx-'));
    const file = join(dir, 'damaged.evtx');
    await writeFile(file, bytes);
    return file;
  }

  const chunkStart = (index: number) => FILE_HEADER_SIZE + index * CHUNK_SIZE;

  it('a damaged record is reported with file, chunk and record, and every other record still comes out', async () => {
    const { events: all } = await readAll(multiChunk());
    const file = await copy((bytes) => {
      // scribble over the Binary XML of the second record of chunk 1
      const first = chunkStart(1) + 512;
      const second = first + bytes.readUInt32LE(first + 4);
      bytes.fill(0xee, second + 24, second + 60);
      return bytes;
    });
    const { events, errors } = await readAll(file);
    expect(events.length).toBe(all.length - 1);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^chunk 1: record data checksum mismatch/),
      expect.stringMatching(/^chunk 1: record \d+ could not be decoded/),
    ]);
    expect(errors[1]!.location).toMatchObject({ file, record: expect.any(Number) });
  });

  it('a chunk that is not a chunk is skipped and reported; the others are read', async () => {
    const { events: all } = await readAll(multiChunk());
    const file = await copy((bytes) => {
      bytes.write('XXXXXXXX', chunkStart(1), 'latin1');
      return bytes;
    });
    const { events, errors } = await readAll(file);
    expect(errors.map((e) => e.message)).toEqual(['chunk 1: not a chunk (bad signature); skipped']);
    expect(events.length).toBeLessThan(all.length);
    expect(events.length).toBeGreaterThan(all.length / 2);
  });

  it('a truncated file gives every record before the cut', async () => {
    const { events: all } = await readAll(multiChunk());
    const file = await copy((bytes) => bytes.subarray(0, chunkStart(2) + 20_000));
    const { events, errors } = await readAll(file);
    expect(errors[0]?.message).toMatch(/^chunk 2: the file ends after 20000 of 65536 bytes \(truncated\)/);
    expect(events.length).toBeGreaterThan(all.length / 16);
    expect(events.map((e) => e.source.record)).toEqual(
      all.slice(0, events.length).map((e) => e.source.record),
    );
  });

  it('a dirty file with a stale last chunk and a stale chunk count is read fully', async () => {
    const { events: all } = await readAll(multiChunk());
    const file = await copy((bytes) => {
      // the file header: dirty, and claiming a single chunk
      bytes.writeUInt32LE(bytes.readUInt32LE(120) | 1, 120);
      bytes.writeUInt16LE(1, 42);
      bytes.writeUInt32LE(crc32(bytes, 0, 120), 124);
      // the last used chunk: its header stopped two records early, as when Windows did not close the file
      let last = 0;
      while (
        chunkStart(last + 1) + 8 <= bytes.length &&
        bytes.toString('latin1', chunkStart(last + 1), chunkStart(last + 1) + 7) === 'ElfChnk'
      )
        last++;
      const chunk = bytes.subarray(chunkStart(last), chunkStart(last) + CHUNK_SIZE);
      let offset = 512;
      const offsets: number[] = [];
      while (chunk.readUInt32LE(offset) === 0x2a2a) {
        offsets.push(offset);
        offset += chunk.readUInt32LE(offset + 4);
      }
      const staleEnd = offsets[offsets.length - 2]!;
      chunk.writeUInt32LE(staleEnd, 48); // free space offset
      chunk.writeUInt32LE(offsets[offsets.length - 3]!, 44); // last record offset
      chunk.writeUInt32LE(crc32(chunk, 512, staleEnd), 52);
      chunk.writeUInt32LE(crc32(chunk, 128, 512, crc32(chunk, 0, 120)), 124);
      return bytes;
    });
    const { events, errors } = await readAll(file);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.source.record)).toEqual(all.map((e) => e.source.record));
  });

  it('never crashes on damaged bytes (mutation fuzzing of real files)', async () => {
    const original = Buffer.from(await readFile(multiChunk()));
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const dir = await mkdtemp(join(tmpdir(), 'vigil-fuzz-'));
    for (let round = 0; round < 40; round++) {
      const bytes = Buffer.from(original);
      const flips = 1 + random(200);
      for (let i = 0; i < flips; i++) {
        const at = FILE_HEADER_SIZE + random(bytes.length - FILE_HEADER_SIZE);
        bytes[at] = random(3) === 0 ? 0 : random(256);
      }
      if (round % 5 === 0)
        bytes.fill(random(256), 4096 + random(400_000), 4096 + random(400_000) + random(5000));
      const file = join(dir, `fuzz-${round}.evtx`);
      await writeFile(file, bytes);
      const { events } = await readAll(file); // must return, whatever it finds
      expect(events.length).toBeGreaterThanOrEqual(0);
    }
    const noise = Buffer.alloc(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = random(256);
    Buffer.from('ElfFile\u0000', 'latin1').copy(noise, 0);
    Buffer.from('ElfChnk\u0000', 'latin1').copy(noise, FILE_HEADER_SIZE);
    await writeFile(join(dir, 'noise.evtx'), noise);
    const { errors } = await readAll(join(dir, 'noise.evtx'));
    expect(errors.length).toBeGreaterThan(0);
  });

  it('an empty file is called empty, not "not EVTX"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-evtx-'));
    await writeFile(join(dir, 'empty.evtx'), '');
    const { events, errors } = await readAll(join(dir, 'empty.evtx'));
    expect(events).toEqual([]);
    expect(errors).toMatchObject([{ code: 'LOG_EMPTY', message: 'the file is empty' }]);
  });

  it('a file that is not EVTX says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-evtx-'));
    await writeFile(join(dir, 'x.evtx'), 'hello');
    const { events, errors } = await readAll(join(dir, 'x.evtx'));
    expect(events).toEqual([]);
    expect(errors[0]).toMatchObject({
      code: 'EVTX_NOT_EVTX',
      message: 'not an EVTX file (no ElfFile signature)',
    });
  });
});

const hasEvtxexport = (() => {
  try {
    execFileSync('evtxexport', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();
if (!hasEvtxexport)
  console.warn(
    '\n*** evtxexport (Debian libevtx-utils) not installed: the check against libevtx is SKIPPED ***\n',
  );

describe.skipIf(!hasContent || !hasEvtxexport)('agreement with libevtx (reference content)', () => {
  it('every record of EVTX-ATTACK-SAMPLES reads the same as libevtx reads it', async () => {
    const { verifyEvtx } = await import('../../scripts/verify-evtx.js');
    const result = await verifyEvtx(contentPath('..', 'datasets', 'evtx-attack-samples'));
    expect(result.details).toEqual([]);
    expect(result).toMatchObject({ files: 277, records: 8255, differences: 0 });
  });
});
