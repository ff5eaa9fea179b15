import { execFile } from 'node:child_process';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

export interface RpzConfig {
  /** The response policy zone's name, as the resolver's configuration names it. */
  zone: string;
  /** The zone's file, which Vigil keeps: it writes the whole file each time. */
  zoneFile: string;
  /** The command (and its first arguments) that makes the resolver read the zone again. */
  reload: string[];
}

/** The reload command of each resolver, completed with the zone's name. */
export function defaultReload(server: 'unbound' | 'bind', controlConfig?: string): string[] {
  if (server === 'bind') return ['rndc', 'reload'];
  return controlConfig
    ? ['unbound-control', '-c', controlConfig, 'auth_zone_reload']
    : ['unbound-control', 'auth_zone_reload'];
}

/** `NAME CNAME .`, then optionally `; KEY KEY...` (the steps holding it). */
const ENTRY = /^([^\s;*$@][^\s;]*)\s+CNAME\s+\.\s*(?:;\s*(.*))?$/i;
/** The holder of an entry written without one: kept until removed by hand. */
const BY_HAND = 'manual';
const SERIAL = /;\s*serial\s+(\d+)/;

/**
 * Blocks domains through a response policy zone (RPZ), which Unbound and BIND both read: a blocked
 * domain and every name under it answer NXDOMAIN (`NAME CNAME .` and `*.NAME CNAME .`). Each entry
 * names the steps that asked for it, so that a retried step adds nothing twice and a revert lifts a
 * block only when no other step (nor a hand-written entry) still wants it. The file is rewritten whole
 * (to a temporary file, then renamed) under a lock, so that two responders never lose each other's
 * entries.
 */
export class RpzConnector implements Connector {
  readonly capability = 'dns';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: RpzConfig) {}

  get target(): string {
    return `response policy zone ${this.config.zone} (${this.config.zoneFile})`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>): string {
    const name = normalise(params.domain!);
    return `add "${name} CNAME ." and "*.${name} CNAME ." to ${this.config.zoneFile}, then ${[...this.config.reload, this.config.zone].join(' ')}`;
  }

  async run(
    action: string,
    params: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<ActionResult> {
    if (action !== 'block_domain') throw new Error(`a response policy zone cannot ${action}`);
    const name = normalise(params.domain!);
    const before = await this.change((entries) => {
      const keys = entries.get(name) ?? new Set<string>();
      const had = keys.size;
      keys.add(options.key);
      entries.set(name, keys);
      return had;
    }, options.signal);
    return {
      result: `${name} and its subdomains blocked in ${this.config.zone}${before > 0 ? ' (blocked already for another reason too)' : ''}`,
    };
  }

  async revert(
    action: string,
    params: Readonly<Record<string, string>>,
    _kept: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<string> {
    if (action !== 'block_domain') throw new Error(`a response policy zone cannot undo ${action}`);
    const name = normalise(params.domain!);
    const left = await this.change((entries) => {
      const keys = entries.get(name);
      if (!keys) return -1;
      keys.delete(options.key);
      if (keys.size === 0) entries.delete(name);
      return keys.size;
    }, options.signal);
    if (left < 0) return `${name} was not blocked any more`;
    return left === 0
      ? `${name} no longer blocked in ${this.config.zone}`
      : `${name} stays blocked: ${left} other reason(s) still hold it`;
  }

  /** Applies a change to the blocked domains, one change at a time, and has the resolver reload the zone. */
  private change<T>(edit: (entries: Map<string, Set<string>>) => T, signal: AbortSignal): Promise<T> {
    const next = this.queue.then(() =>
      this.locked(async () => {
        const { entries, serial } = await this.read();
        const answer = edit(entries);
        await this.write(entries, serial + 1);
        await this.reload(signal);
        return answer;
      }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<{ entries: Map<string, Set<string>>; serial: number }> {
    let text = '';
    try {
      text = await readFile(this.config.zoneFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const entries = new Map<string, Set<string>>();
    for (const line of text.split('\n')) {
      const entry = ENTRY.exec(line.trim());
      if (!entry) continue;
      const keys = entry[2] ? entry[2].split(/\s+/).filter(Boolean) : [BY_HAND];
      entries.set(normalise(entry[1]!), new Set(keys));
    }
    return { entries, serial: Number(SERIAL.exec(text)?.[1] ?? 0) };
  }

  private async write(entries: ReadonlyMap<string, ReadonlySet<string>>, serial: number): Promise<void> {
    const lines = [
      `; Response policy zone ${this.config.zone}, kept by Vigil: each blocked domain and its subdomains`,
      `; answer NXDOMAIN. After each entry, the response steps that hold it ('${BY_HAND}': added by`,
      '; hand, kept until removed by hand); the entry goes when the last of them is reverted.',
      '$TTL 60',
      `@ IN SOA localhost. hostmaster.localhost. ${serial} 3600 600 86400 60 ; serial ${serial}`,
      '@ IN NS localhost.',
      ...[...entries.keys()].sort().flatMap((name) => {
        const held = ` ; ${[...entries.get(name)!].join(' ')}`;
        return [`${name} CNAME .${held}`, `*.${name} CNAME .`];
      }),
      '',
    ];
    const temporary = `${this.config.zoneFile}.vigil-${process.pid}`;
    await writeFile(temporary, lines.join('\n'));
    await rename(temporary, this.config.zoneFile);
  }
  private reload(signal: AbortSignal): Promise<void> {
    const [command, ...args] = this.config.reload;
    return new Promise((resolve, reject) => {
      execFile(command!, [...args, this.config.zone], { signal, timeout: 30_000 }, (error, _out, stderr) => {
        if (!error) return resolve();
        const message = `${[command, ...args, this.config.zone].join(' ')}: ${(stderr || error.message).trim()}`;
        // The zone file is written: a reload that did not happen now can be asked for again.
        reject(new TransientFailure(message));
      });
    });
  }

  /** Runs `work` holding the zone file's lock file, against other processes editing it too. */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.config.zoneFile}.lock`;
    for (let waited = 0; ; waited += 50) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock left by a process that died is taken over after 30 s.
        if (waited >= 30_000) await rm(lock, { force: true });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await work();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

/** Domains compare in lower case, without the final dot. */
function normalise(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}
