/**
 * What the benchmarks share: timing a command with its peak memory, finding the reference data
 * and the peer tools, and printing aligned result rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentHelp, locateContent } from '../src/content/index.js';

export const VIGIL = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const LOAD = fileURLToPath(new URL('./serve-load.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Runs `vigil ARGS` to completion and returns its standard output; a failure stops the benchmark. */
export function vigilOut(args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(process.execPath, [VIGIL, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`vigil ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Writes the lines of `samples` (a JSONL file) over and over to `out` until there are `total`;
 * returns how many times the samples were taken.
 */
export function repeatLines(samples: string, out: string, total: number): number {
  const lines = readFileSync(samples, 'utf8').split('\n').filter(Boolean);
  const copies = Math.ceil(total / lines.length);
  writeFileSync(
    out,
    `${Array.from({ length: copies }, () => lines.join('\n'))
      .join('\n')
      .split('\n')
      .slice(0, total)
      .join('\n')}\n`,
  );
  return copies;
}

export interface LoadResult {
  events: number;
  seconds: number;
  /** When the first request left, in ms since the epoch: the service's clock starts there. */
  firstRequestAt: number;
  /** Events per second accepted. */
  rate: number;
  /** 429 answers waited out. */
  throttled: number;
  /** The load process's own processor time while it sent, which the service's machine paid. */
  cpuSeconds: number;
}

/**
 * Sends `events` lines of `file` to the services from a separate load process (bench/serve-load.ts),
 * so that sending does not share a thread with any service: batches go to the URLs and tokens in
 * turn, as fast as accepted, or at `rate` events/s.
 */
export function sendLoad(
  urls: readonly string[],
  tokens: readonly string[],
  file: string,
  events: number,
  options: { rate?: number; concurrency?: number } = {},
): Promise<LoadResult> {
  const args = [
    TSX,
    LOAD,
    urls.join(','),
    tokens.join(','),
    file,
    '--events',
    String(events),
    ...(options.rate ? ['--rate', String(Math.round(options.rate))] : []),
    ...(options.concurrency ? ['--concurrency', String(options.concurrency)] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`the load process failed (${code})`)),
    );
  });
}

/** Seconds from a load's first request until now: how long the service took over its events. */
export function secondsSinceFirstRequest(load: LoadResult): number {
  return (performance.timeOrigin + performance.now() - load.firstRequestAt) / 1000;
}

export interface Timed {
  seconds: number;
  stdout: string;
  stderr: string;
  /** Maximum resident set size, when GNU time is installed to measure it. */
  peakMB?: number;
  /** Processor time, user and system, every thread of the process (with GNU time): on a shared machine it varies far less than the wall time. */
  cpuSeconds?: number;
}

export interface TimedOptions {
  cwd?: string;
  /** Send standard output to this file instead of capturing it. */
  stdoutFile?: string;
}

/** Runs a command to completion; a failure stops the benchmark with the command's own error text. */
export function timed(command: string, args: string[], options: TimedOptions = {}): Timed {
  const gnuTime = '/usr/bin/time';
  const memoryFile = join(tmpdir(), `vigil-bench-rss-${process.pid}`);
  const [cmd, argv] = existsSync(gnuTime)
    ? [gnuTime, ['-f', '%M %U %S', '-o', memoryFile, command, ...args]]
    : [command, args];
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'w') : undefined;
  const started = performance.now();
  const result = spawnSync(cmd, argv, {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    cwd: options.cwd,
    stdio: ['ignore', out ?? 'pipe', 'pipe'],
  });
  const seconds = (performance.now() - started) / 1000;
  if (out !== undefined) closeSync(out);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  let peakMB: number | undefined;
  let cpuSeconds: number | undefined;
  if (existsSync(memoryFile)) {
    const [rss, user, system] = readFileSync(memoryFile, 'utf8').trim().split(/\s+/).map(Number);
    peakMB = rss! / 1024;
    cpuSeconds = user! + system!;
    rmSync(memoryFile);
  }
  return { seconds, stdout: result.stdout ?? '', stderr: result.stderr ?? '', peakMB, cpuSeconds };
}

/** The EVTX-ATTACK-SAMPLES folder of the reference datasets; exits with directions when absent. */
export function attackSamplesDir(): string {
  const content = locateContent();
  const dir = content && join(content.dir, '..', 'datasets', 'evtx-attack-samples');
  if (!dir || !existsSync(dir)) {
    console.error(contentHelp());
    console.error('The benchmark reads datasets/evtx-attack-samples beside the content folder.');
    process.exit(2);
  }
  return dir;
}

export function sigmaDir(): string {
  const content = locateContent();
  if (!content) {
    console.error(contentHelp());
    process.exit(2);
  }
  return join(content.dir, 'sigma');
}

/** Peer tools set up as ../shared/peers/README.md describes, under $PEERS; absent ones are undefined. */
export interface Peers {
  python?: string;
  zircolite?: string;
  /** A Zircolite ruleset converted from SigmaHQ rules/windows. */
  zircoliteRules?: string;
  evtxDump?: string;
}

export function findPeers(): Peers {
  const root = process.env.PEERS;
  if (!root) return {};
  const found = (path: string) => (existsSync(path) ? path : undefined);
  return {
    python: found(join(root, 'venv', 'bin', 'python')),
    zircolite: found(join(root, 'zircolite', 'zircolite.py')) && join(root, 'zircolite'),
    zircoliteRules: [
      join(root, 'rules_windows_sysmon.json'),
      join(root, 'rulesets', 'sigma-windows.zircolite.json'),
    ].find(existsSync),
    evtxDump: found(process.env.EVTX_DUMP ?? join(root, 'evtx_dump', 'evtx_dump_lin')),
  };
}

/** A program on the PATH, or undefined. */
export function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = join(dir, program);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** The value after `--name` on the command line, if given. */
export function argText(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The number after `--name` on the command line, or the fallback. */
export function argNumber(name: string, fallback: number): number {
  const text = argText(name);
  return text === undefined ? fallback : Number(text);
}

export function printRows(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

export const count = (n: number) => Math.round(n).toLocaleString('en-US');
