import { execFile } from 'node:child_process';
import { parseIPv4 } from '../../core/index.js';
import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

export interface NftablesConfig {
  family: 'inet' | 'ip' | 'ip6';
  table: string;
  setV4: string;
  setV6: string;
  /** Create the table, its sets and the chains that drop their addresses when they are missing. */
  manage: boolean;
  /** The nft command and the words before its own: `[nft]`, or `[sudo, -n, nft]` for a service that is not root. */
  nft: string[];
}

/** A command that was stopped (time out, abort) may work when tried again; one nft refused will not. */
function failure(command: string, error: Error & { killed?: boolean }, stderr: string): Error {
  const message = `${command}: ${(stderr || error.message).trim()}`;
  return error.killed || error.name === 'AbortError' ? new TransientFailure(message) : new Error(message);
}

/**
 * Blocks addresses by adding them to an nftables set, with the kernel's own element timeout when
 * the step has a time to live: a block ends on time even if Vigil is not running then. Vigil can
 * keep the table itself (`manage`): a table with one set per address family and chains that drop
 * traffic from and to their members, in the input, forward and output hooks.
 */
export class NftablesConnector implements Connector {
  readonly capability = 'firewall';
  private ready = false;

  constructor(private readonly config: NftablesConfig) {}

  get target(): string {
    return `nftables table ${this.config.family} ${this.config.table}`;
  }

  private setOf(address: string): string {
    return parseIPv4(address) !== undefined ? this.config.setV4 : this.config.setV6;
  }

  private element(address: string, ttlMs?: number): string {
    const timeout = ttlMs === undefined ? '' : ` timeout ${Math.max(1, Math.ceil(ttlMs / 1000))}s`;
    return `{ ${address}${timeout} }`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>, ttlMs?: number): string {
    const address = params.address!;
    return `${this.config.nft.join(' ')} add element ${this.config.family} ${this.config.table} ${this.setOf(address)} ${this.element(address, ttlMs)}`;
  }

  private nft(command: string, signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const [program, ...first] = this.config.nft;
      execFile(program!, [...first, command], { signal, timeout: 30_000 }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        reject(failure(`${this.config.nft.join(' ')} ${command}`, error, stderr));
      });
    });
  }

  private async prepare(signal: AbortSignal): Promise<void> {
    if (this.ready || !this.config.manage) return;
    const { family, table, setV4, setV6 } = this.config;
    const exists = await this.nft(`list table ${family} ${table}`, signal).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const sets = [
        ...(family !== 'ip6' ? [{ name: setV4, type: 'ipv4_addr', match: 'ip' }] : []),
        ...(family !== 'ip' ? [{ name: setV6, type: 'ipv6_addr', match: 'ip6' }] : []),
      ];
      const lines = [`add table ${family} ${table}`];
      for (const set of sets)
        lines.push(`add set ${family} ${table} ${set.name} { type ${set.type}; flags timeout; }`);
      for (const [chain, hook] of [
        ['vigil_input', 'input'],
        ['vigil_forward', 'forward'],
        ['vigil_output', 'output'],
      ] as const) {
        lines.push(
          `add chain ${family} ${table} ${chain} { type filter hook ${hook} priority -10; policy accept; }`,
        );
        for (const set of sets) {
          if (hook !== 'output')
            lines.push(`add rule ${family} ${table} ${chain} ${set.match} saddr @${set.name} drop`);
          if (hook !== 'input')
            lines.push(`add rule ${family} ${table} ${chain} ${set.match} daddr @${set.name} drop`);
        }
      }
      // One transaction: the table appears whole or not at all.
      await this.nftScript(lines.join('\n'), signal);
    }
    this.ready = true;
  }

  private nftScript(script: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const [program, ...first] = this.config.nft;
      const child = execFile(
        program!,
        [...first, '-f', '-'],
        { signal, timeout: 30_000 },
        (error, _out, stderr) =>
          error ? reject(failure(`${this.config.nft.join(' ')} -f`, error, stderr)) : resolve(),
      );
      child.stdin!.end(script);
    });
  }

  async run(
    action: string,
    params: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<ActionResult> {
    if (action !== 'block_address') throw new Error(`nftables cannot ${action}`);
    await this.prepare(options.signal);
    const address = params.address!;
    const set = this.setOf(address);
    await this.nft(
      `add element ${this.config.family} ${this.config.table} ${set} ${this.element(address, options.ttlMs)}`,
      options.signal,
    );
    return {
      result: `${address} added to nftables set ${this.config.family} ${this.config.table} ${set}${
        options.ttlMs === undefined ? '' : ` for ${Math.ceil(options.ttlMs / 1000)} s`
      }`,
    };
  }

  async revert(
    action: string,
    params: Readonly<Record<string, string>>,
    _kept: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<string> {
    if (action !== 'block_address') throw new Error(`nftables cannot undo ${action}`);
    const address = params.address!;
    const set = this.setOf(address);
    try {
      await this.nft(
        `delete element ${this.config.family} ${this.config.table} ${set} { ${address} }`,
        options.signal,
      );
    } catch (error) {
      // Gone already: its timeout ended it, or someone removed it by hand.
      if (/No such file or directory|does not exist/i.test((error as Error).message))
        return `${address} was no longer in nftables set ${set}`;
      throw error;
    }
    return `${address} removed from nftables set ${this.config.family} ${this.config.table} ${set}`;
  }
}
