/**
 * EVTX parsing benchmark: Vigil against the other EVTX parsers, in one run, on the same files.
 *
 * Three sets: every file of EVTX-ATTACK-SAMPLES (277 mostly small files, where start-up counts),
 * its largest files (over 1,000 KiB, where parsing does), and one big file made of the largest
 * sample's chunks repeated (memory must stay flat however large the file).
 *
 * Vigil is measured twice: the parser alone in this process (records to the Event shape, as
 * `vigil hunt` uses them, after a warm-up pass) and `vigil dump` end to end (a process that writes
 * every record as JSON, like the peers write theirs). The peers run one process per file, as they
 * must: libevtx's `evtxexport -f xml`, python-evtx's `evtx_dump.py`, and the Rust `evtx_dump -o
 * jsonl -t 1` when the peers are set up (PEERS, ../shared/peers/README.md). Ratios are the peer's
 * time over Vigil's `dump` time.
 *
 *   npm run bench:evtx [-- --big-mb 256] [-- --no-python]
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles } from '../src/core/index.js';
import { CHUNK_SIZE, crc32, FILE_HEADER_SIZE, readEvtxEvents } from '../src/logs/evtx/index.js';
import {
  argNumber,
  attackSamplesDir,
  count,
  findPeers,
  onPath,
  printRows,
  type Timed,
  timed,
  VIGIL,
} from './common.js';

const BIG_MB = argNumber('big-mb', 256);
const WITH_PYTHON = !process.argv.includes('--no-python');
const LARGE_BYTES = 1000 * 1024;

interface FileSet {
  name: string;
  files: string[];
  bytes: number;
  /** What to hand `vigil dump`: the folder itself when the set is a whole folder. */
  vigilPaths: string[];
}

interface Measure {
  tool: string;
  records: number;
  seconds: number;
  peakMB?: number;
}

/** Records in a tool's output: one line per record for JSONL, one <Event> element per record for XML. */
function countRecords(output: string, format: 'jsonl' | 'xml'): number {
  const text = readFileSync(output, 'utf8');
  const pattern = format === 'jsonl' ? /^\{/gm : /^<Event[ >]/gm;
  return text.match(pattern)?.length ?? 0;
}

/** A peer that reads one file per process: every file in turn from one shell, output to a file. */
function perFile(
  tool: string,
  command: string,
  set: FileSet,
  output: string,
  format: 'jsonl' | 'xml',
): Measure {
  const run = timed(
    'bash',
    ['-c', `for f in "$@"; do ${command} "$f" || exit 1; done`, 'bash', ...set.files],
    {
      stdoutFile: output,
    },
  );
  return { tool, records: countRecords(output, format), seconds: run.seconds, peakMB: run.peakMB };
}

async function inProcess(set: FileSet): Promise<Measure> {
  const pass = async () => {
    let records = 0;
    for (const file of set.files) for await (const _ of readEvtxEvents(file)) records++;
    return records;
  };
  await pass(); // warm-up: the JIT, and the files into the page cache for everyone
  const started = performance.now();
  const records = await pass();
  return {
    tool: 'Vigil parser, in process (Event shape)',
    records,
    seconds: (performance.now() - started) / 1000,
  };
}

function vigilDump(set: FileSet, output: string, threads: number): Measure {
  const run: Timed = timed(process.execPath, [
    VIGIL,
    'dump',
    ...set.vigilPaths,
    '--threads',
    String(threads),
    '--output',
    output,
  ]);
  return {
    tool: `vigil dump --threads ${threads} (JSONL)`,
    records: output === '/dev/null' ? Number.NaN : countRecords(output, 'jsonl'),
    seconds: run.seconds,
    peakMB: run.peakMB,
  };
}

/**
 * A big EVTX file made of `source`'s chunks repeated: a valid file (header count and checksum
 * rewritten) of the given size, to show that memory does not grow with the file.
 */
function buildBigFile(source: string, path: string, megabytes: number): number {
  const data = readFileSync(source);
  const chunks = Math.floor((data.length - FILE_HEADER_SIZE) / CHUNK_SIZE);
  const wanted = Math.min(0xffff, Math.ceil((megabytes * 1024 * 1024) / CHUNK_SIZE));
  const header = Buffer.from(data.subarray(0, FILE_HEADER_SIZE));
  header.writeBigUInt64LE(BigInt(wanted - 1), 16); // last chunk number
  header.writeUInt16LE(wanted, 42); // chunk count
  header.writeUInt32LE(header.readUInt32LE(120) & ~1, 120); // cleanly closed
  header.writeUInt32LE(crc32(header, 0, 120), 124);
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  for (let i = 0; i < wanted; i++) {
    const start = FILE_HEADER_SIZE + (i % chunks) * CHUNK_SIZE;
    writeSync(fd, data, start, CHUNK_SIZE);
  }
  closeSync(fd);
  return statSync(path).size;
}

/** Vigil's dump against a peer, from their times. */
function comparison(ratio: number): string {
  return ratio >= 1
    ? `Vigil dump ${ratio.toFixed(1)}x faster`
    : `Vigil dump ${(1 / ratio).toFixed(1)}x slower`;
}

function describe(m: Measure, bytes: number, reference?: Measure): string {
  const perSecond = m.records / m.seconds;
  const parts = [
    `${m.seconds.toFixed(2)} s`,
    Number.isNaN(m.records) ? '' : `${count(m.records)} records = ${count(perSecond)} rec/s`,
    `${(bytes / 1e6 / m.seconds).toFixed(1)} MB/s`,
    m.peakMB ? `peak ${m.peakMB.toFixed(0)} MB` : '',
    reference && reference !== m ? comparison(m.seconds / reference.seconds) : '',
  ];
  return parts.filter(Boolean).join(', ');
}

async function main(): Promise<void> {
  const samples = attackSamplesDir();
  const { files } = await collectFiles([samples], ['.evtx']);
  const sizes = new Map(await Promise.all(files.map(async (f) => [f, (await stat(f)).size] as const)));
  const total = (list: string[]) => list.reduce((sum, f) => sum + sizes.get(f)!, 0);
  const large = files.filter((f) => sizes.get(f)! > LARGE_BYTES);
  const sets: FileSet[] = [
    { name: 'all of evtx-attack-samples', files, bytes: total(files), vigilPaths: [samples] },
    { name: 'its largest files (over 1,000 KiB)', files: large, bytes: total(large), vigilPaths: large },
  ];
  const peers = findPeers();
  const evtxexport = onPath('evtxexport');
  const pythonEvtx = WITH_PYTHON ? onPath('evtx_dump.py') : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-evtx-'));
  console.log(`EVTX parsing benchmark (Node ${process.version}, ${samples})`);
  const summary: Record<string, unknown>[] = [];
  try {
    for (const set of sets) {
      console.log(`\n${set.name}: ${set.files.length} files, ${(set.bytes / 1e6).toFixed(1)} MB`);
      const parser = await inProcess(set);
      const dump = vigilDump(set, join(dir, 'vigil.jsonl'), 1);
      const measures: Measure[] = [parser, dump];
      const missing: [string, string][] = [];
      if (peers.evtxDump)
        measures.push(
          perFile(
            'Rust evtx_dump -o jsonl -t 1, per file',
            `'${peers.evtxDump}' -o jsonl -t 1`,
            set,
            join(dir, 'rust.jsonl'),
            'jsonl',
          ),
        );
      else missing.push(['Rust evtx_dump', 'not set up (see ../shared/peers/README.md; set PEERS)']);
      if (evtxexport)
        measures.push(
          perFile(
            'libevtx evtxexport -f xml, per file',
            'evtxexport -f xml',
            set,
            join(dir, 'libevtx.xml'),
            'xml',
          ),
        );
      else missing.push(['libevtx evtxexport', 'not installed (apt-get install libevtx-utils)']);
      if (pythonEvtx)
        measures.push(
          perFile('python-evtx evtx_dump.py, per file', 'evtx_dump.py', set, join(dir, 'python.xml'), 'xml'),
        );
      else
        missing.push([
          'python-evtx',
          WITH_PYTHON ? 'not installed (apt-get install python3-evtx)' : 'skipped (--no-python)',
        ]);
      printRows([
        ...measures.map(
          (m) => [m.tool, describe(m, set.bytes, m === parser ? undefined : dump)] as [string, string],
        ),
        ...missing,
      ]);
      const counts = new Set(measures.map((m) => m.records));
      if (counts.size > 1)
        console.log(`  ! the tools disagree on the record count: ${[...counts].join(', ')}`);
      summary.push({
        set: set.name,
        files: set.files.length,
        MB: +(set.bytes / 1e6).toFixed(1),
        ...Object.fromEntries(
          measures.map((m) => [m.tool, { seconds: +m.seconds.toFixed(2), records: m.records }]),
        ),
      });
      await rm(join(dir, 'vigil.jsonl'), { force: true });
    }

    if (BIG_MB > 0) {
      const biggest = [...files].sort((a, b) => sizes.get(b)! - sizes.get(a)!)[0]!;
      const big = join(dir, 'big.evtx');
      const bytes = buildBigFile(biggest, big, BIG_MB);
      console.log(
        `\none big file: ${(bytes / 1e6).toFixed(0)} MB, the chunks of ${biggest.slice(samples.length + 1)} repeated`,
      );
      const set: FileSet = { name: 'big', files: [big], bytes, vigilPaths: [big] };
      const one = vigilDump(set, '/dev/null', 1);
      const two = vigilDump(set, '/dev/null', 2);
      const rows: [string, string][] = [
        [one.tool, describe(one, bytes)],
        [two.tool, describe(two, bytes)],
      ];
      const measures = [one, two];
      if (peers.evtxDump) {
        const rust = timed(peers.evtxDump, ['-o', 'jsonl', '-t', '1', big], { stdoutFile: '/dev/null' });
        const m = { tool: 'Rust evtx_dump -o jsonl -t 1', records: Number.NaN, ...rust };
        rows.push([m.tool, describe(m, bytes, one)]);
        measures.push(m);
      }
      if (evtxexport) {
        const lib = timed('evtxexport', ['-f', 'xml', big], { stdoutFile: '/dev/null' });
        const m = { tool: 'libevtx evtxexport -f xml', records: Number.NaN, ...lib };
        rows.push([m.tool, describe(m, bytes, one)]);
        measures.push(m);
      }
      printRows(rows);
      summary.push({
        set: 'big',
        MB: +(bytes / 1e6).toFixed(0),
        ...Object.fromEntries(
          measures.map((m) => [
            m.tool,
            { seconds: +m.seconds.toFixed(2), peakMB: m.peakMB && Math.round(m.peakMB) },
          ]),
        ),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(summary));
}

await main();
