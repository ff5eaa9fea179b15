import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultRulePaths, openAttack, prioritizeOptions, warningListsFrom } from '../assess/index.js';
import type { AttackIndex } from '../attack/index.js';
import { describeError, VigilError } from '../core/index.js';
import { buildServer } from '../server/index.js';
import {
  checkTenantName,
  DetectionService,
  FolderWatch,
  loadServiceConfig,
  NODE_NAME,
  redactUrl,
  type ServiceConfig,
  SyslogInput,
  type SyslogListener,
} from '../service/index.js';
import { DEFAULT_EPSS_THRESHOLD } from '../vuln/index.js';
import { withBus } from './bus-option.js';
import { geoipPath } from './geoip-option.js';
import { parseThreads } from './io.js';
import { printNotice } from './notices.js';
import { addRuleOptions, type RuleFlags, setupOptions } from './rules-options.js';
import { STORE_OPTION_HELP, storeFlag } from './store-option.js';
import { UsageError } from './terminal.js';
import { packageVersion } from './version.js';

interface ServeFlags extends RuleFlags {
  data: string;
  listen?: string;
  syslogUdp?: string;
  syslogTcp?: string;
  syslogTls?: string;
  watch?: string[];
  tenant?: string;
  threads?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  allowPlaintext?: boolean;
  store?: string;
  bus?: string;
  node?: string;
  geoip?: string;
}

/** One line per event of note, stamped, on standard error (standard output stays free). */
function logLine(text: string): void {
  process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('run the detection service: take events over HTTP, detect at once, keep alerts for triage')
    .requiredOption('--data <dir>', 'the data folder: configuration, event log, database (made if missing)')
    .option('--store <url>', STORE_OPTION_HELP)
    .option('--listen <host:port>', 'address of the HTTP API (default 127.0.0.1:8600, or config.yml)')
    .option('-t, --threads <n>', 'detection threads (default 1, or config.yml)')
    .option('--tls-cert <file>', 'certificate (PEM) for HTTPS')
    .option('--tls-key <file>', 'private key (PEM) for HTTPS')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (PEM)')
    .option('--allow-plaintext', 'allow plain HTTP on an address other than loopback')
    .option(
      '--geoip <file>',
      'a geolocation database in the MaxMind DB format (GeoLite2-City.mmdb) for impossible travel and new-country sign-ins (default: geoip in config.yml, else $VIGIL_GEOIP)',
    )
    .option(
      '--bus <nats://host:port>',
      "keep the event log in NATS JetStream (one stream per tenant) instead of the data folder's files",
    )
    .option(
      '--node <name>',
      'this node of a cluster (--bus and a postgres:// --store): its name in cluster status (default: the host name, or config.yml)',
    )
    .option(
      '--syslog-udp <[host:]port>',
      'take syslog over UDP (RFC 5424 and 3164; CEF and key=value bodies read)',
    )
    .option('--syslog-tcp <[host:]port>', 'take syslog over TCP (octet-counted or newline framing)')
    .option('--syslog-tls <[host:]port>', 'take syslog over TLS (RFC 5425), with --tls-cert and --tls-key')
    .option(
      '--watch <dir>',
      'take in the .jsonl, .ndjson, .json, .evtx files and the text logs (.log, .csv, no extension) of a folder as they appear or grow; repeatable',
      collect,
    )
    .option(
      '--tenant <name>',
      'the tenant of what --syslog-* and --watch take in (config.yml can route syslog by source address)',
    );
  addRuleOptions(command, false).action(async (flags: ServeFlags) => {
    await runServe(flags, program.opts().content);
  });
}

/**
 * The ATT&CK index, for technique names in the console: loaded once the service listens, so a
 * missing or slow ATT&CK copy neither delays nor stops the service (names are then left out).
 */
function backgroundAttack(contentFlag: string | undefined): { index?: AttackIndex; start(): void } {
  const holder: { index?: AttackIndex; start(): void } = {
    start() {
      setTimeout(() => {
        try {
          holder.index = openAttack(contentFlag);
        } catch (error) {
          logLine(`ATT&CK names unavailable to the console: ${describeError(error).split('\n')[0]}`);
        }
      }, 0).unref();
    },
  };
  return holder;
}

/** Whether an address is this machine only: plain HTTP is then acceptable. */
function loopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

function splitAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new UsageError(`--listen must be HOST:PORT, not '${address}'`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new VigilError('TLS_UNREADABLE', `cannot read the ${what}: ${(error as Error).message}`, { file });
  }
}

async function runServe(flags: ServeFlags, contentFlag: string | undefined): Promise<void> {
  const dataDir = resolve(flags.data);
  const config: ServiceConfig = withBus(loadServiceConfig(dataDir), flags.bus);
  const listen = splitAddress(flags.listen ?? config.listen);
  const tls =
    flags.tlsCert || flags.tlsKey
      ? { cert: flags.tlsCert, key: flags.tlsKey, clientCa: flags.tlsClientCa }
      : config.tls;
  if (tls && (!tls.cert || !tls.key)) throw new UsageError('HTTPS needs both --tls-cert and --tls-key');
  if (!tls && !loopback(listen.host) && !(flags.allowPlaintext || config.allowPlaintext)) {
    throw new UsageError(
      `listening on ${listen.host} without TLS would send tokens and events in clear: give --tls-cert and --tls-key, or --allow-plaintext if something else encrypts the traffic`,
    );
  }
  const syslog = syslogListeners(flags, config);
  if (syslog.some((l) => l.protocol === 'tls') && !tls) {
    throw new UsageError('syslog over TLS needs --tls-cert and --tls-key (or tls in config.yml)');
  }
  const plainSyslog = syslog.find((l) => l.protocol !== 'tls' && !loopback(splitAddress(l.listen).host));
  if (plainSyslog && !(flags.allowPlaintext || config.allowPlaintext)) {
    throw new UsageError(
      `syslog over ${plainSyslog.protocol.toUpperCase()} on ${plainSyslog.listen} travels in clear: use --syslog-tls, listen on 127.0.0.1, or say --allow-plaintext`,
    );
  }
  if (flags.watch?.length && !flags.tenant)
    throw new UsageError('--watch needs --tenant: the tenant its files belong to');
  const watches = [...config.watch, ...(flags.watch ?? []).map((path) => ({ path, tenant: flags.tenant! }))];
  const threads = flags.threads === undefined ? config.threads : parseThreads(flags.threads);
  const rules = flags.rules ?? config.rules ?? defaultRulePaths(contentFlag);
  const setup = setupOptions(
    {
      ...flags,
      filters: flags.filters ?? config.filters,
      pipeline: flags.pipeline ?? config.pipelines,
      placeholders: flags.placeholders ?? config.placeholders,
    },
    rules,
  );
  const store = storeFlag(flags.store) ?? config.store;
  if (flags.node !== undefined && !NODE_NAME.test(flags.node))
    throw new UsageError(`--node must be letters, digits, '.', '_' or '-' (at most 64), not '${flags.node}'`);
  logLine(`vigil serve: data folder ${dataDir}${store ? `; store ${redactUrl(store)}` : ''}; loading rules`);
  const service = await DetectionService.open({
    dataDir,
    config,
    store,
    node: flags.node,
    rules: setup,
    threads,
    geoip: geoipPath(flags.geoip ?? (config.geoip && resolve(dataDir, config.geoip))),
    log: (line) => logLine(line),
    warningLists: warningListsFrom(contentFlag, printNotice),
    vulnDecisions: () =>
      prioritizeOptions(contentFlag, undefined, DEFAULT_EPSS_THRESHOLD, undefined, printNotice),
  });
  const tlsFiles = tls && {
    cert: readPem(tls.cert!, 'TLS certificate'),
    key: readPem(tls.key!, 'TLS key'),
    ca: tls.clientCa ? readPem(tls.clientCa, 'client CA') : undefined,
  };
  const attack = backgroundAttack(contentFlag);
  const app = await buildServer(service, {
    version: packageVersion(),
    https: tlsFiles,
    log: logLine,
    techniqueName: (id) => attack.index?.technique(id)?.name,
    content: contentFlag,
  });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    await service.close();
    throw new VigilError(
      'LISTEN_FAILED',
      `cannot listen on ${listen.host}:${listen.port}: ${describeError(error)}`,
    );
  }
  // The port actually bound (port 0 asks for any free one).
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : listen.port;
  const url = `${tls ? 'https' : 'http'}://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
  const inputs: { close(): Promise<void> }[] = [];
  try {
    // The tenants inputs deliver to exist from the start, so that tokens can be made for them.
    const named = new Set([
      ...watches.map((w) => w.tenant),
      ...syslog.flatMap((l) => [...(l.tenant ? [l.tenant] : []), ...l.sources.map((s) => s.tenant)]),
    ]);
    for (const tenant of named) {
      if (await service.store.hasTenant(checkTenantName(tenant))) continue;
      await service.store.addTenant(tenant, 'serve');
      logLine(`tenant ${tenant} added (named by an input)`);
    }
    for (const { path, tenant } of watches) {
      const watch = new FolderWatch(service, service.store, service.events, path, tenant);
      await watch.start();
      inputs.push(watch);
      logLine(`watching ${resolve(path)} for tenant ${tenant}`);
    }
    for (const listener of syslog) {
      const input = new SyslogInput(service, listener, tlsFiles);
      await input.start();
      inputs.push(input);
      logLine(
        `syslog over ${listener.protocol.toUpperCase()} on ${listener.listen.replace(/:\d+$/, '')}:${input.port}${listener.tenant ? ` for tenant ${listener.tenant}` : ''}`,
      );
    }
  } catch (error) {
    for (const input of inputs) await input.close();
    await app.close();
    await service.close();
    throw new VigilError('INPUT_FAILED', `cannot start an input: ${describeError(error)}`);
  }
  logLine(`listening on ${url}`);
  attack.start();

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logLine(
          `${signal} again: leaving now (what was acknowledged is on disk and is processed at the next start)`,
        );
        process.exit(1);
      }
      stopping = true;
      logLine(`${signal}: no new requests; finishing detection on what was accepted`);
      void (async () => {
        try {
          for (const input of inputs) await input.close();
          await app.close();
          await service.close();
          logLine('stopped');
        } catch (error) {
          logLine(`stopping failed: ${describeError(error)}`);
          process.exitCode = 1;
        }
        done();
      })();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      logLine('SIGHUP: reloading rules');
      service.reloadRules('signal').catch((error) => logLine(`reload failed: ${describeError(error)}`));
    });
  });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Syslog listeners from config.yml and from the command line (which take --tenant). */
function syslogListeners(flags: ServeFlags, config: ServiceConfig): SyslogListener[] {
  const listeners = [...config.syslog];
  for (const protocol of ['udp', 'tcp', 'tls'] as const) {
    const flag = { udp: flags.syslogUdp, tcp: flags.syslogTcp, tls: flags.syslogTls }[protocol];
    if (flag === undefined) continue;
    const listen = /^\d+$/.test(flag) ? `0.0.0.0:${flag}` : flag;
    splitAddress(listen);
    if (!flags.tenant)
      throw new UsageError(`--syslog-${protocol} needs --tenant: the tenant its messages belong to`);
    listeners.push({ protocol, listen, tenant: flags.tenant, sources: [] });
  }
  return listeners;
}
