import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  allowEntryProblem,
  DEFAULT_FETCH_LIMITS,
  parseCidr,
  readYamlDocuments,
  VigilError,
} from '../core/index.js';
import { parseTimespan } from '../sigma/index.js';
import { isPostgresUrl } from './postgres-url.js';

/**
 * The service's configuration: `config.yml` in the data folder, every key optional. Flags of
 * `vigil serve` take precedence over it. Durations are written as Sigma timespans (`30s`, `5m`,
 * `1h`, `30d`), sizes with a unit (`512KiB`, `16MiB`, `10GiB`, `1GB`).
 */
export interface ServiceConfig {
  listen: string;
  rules?: string[];
  filters?: string[];
  pipelines?: string[];
  placeholders?: string;
  threads: number;
  tls?: { cert: string; key: string; clientCa?: string };
  allowPlaintext: boolean;
  syslog: SyslogListener[];
  watch: { path: string; tenant: string }[];
  latenessMs: number;
  /** A geolocation database (MaxMind DB format) for correlations that place addresses; relative to the data folder. */
  geoip?: string;
  alerts: { windowMs: number; rules: Map<string, number> };
  retention: { default: Retention; tenants: Map<string, Retention> };
  limits: { bodyBytes: number; lineBytes: number; backlogEvents: number };
  /** How the service downloads what it is given as a URL (an advisory): safeFetch's options. */
  fetch: { allowHosts: string[]; maxBytes: number; timeoutMs: number };
  /** Indicator sources (files, folders, URLs, taxii+https:// servers) for every tenant and per tenant. */
  indicators: { global: string[]; tenants: Map<string, string[]> };
  /** Console sessions end after this long unused, and this long after sign-in whatever happens. */
  console: { sessionIdleMs: number; sessionMaxMs: number };
  /** Response playbooks and connectors (paths; relative ones are read from the data folder). */
  response: { playbooks: string[]; connectors: string; tickMs: number };
  /** The cluster store (a postgres:// URL); absent: SQLite in the data folder. */
  store?: string;
  /** The event log on NATS JetStream (a cluster node) instead of files in the data folder. */
  bus?: BusConfig;
  /** This node's name among the others, and how tenants' leases are kept (bus and store shared). */
  cluster: ClusterConfig;
}

export interface ClusterConfig {
  /** Shown in cluster status; a running node is told apart by a suffix of its own. */
  node: string;
  /** A node silent this long is taken for dead, and its tenants move. */
  leaseTtlMs: number;
  /** How often a node renews its leases and looks for tenants to take or hand over. */
  heartbeatMs: number;
}

export interface BusConfig {
  /** `nats://HOST:PORT`. */
  url: string;
  /** First token of this deployment's subjects and stream names. */
  prefix: string;
  /** Copies JetStream keeps of each tenant's stream. */
  replicas: number;
}

export const DEFAULT_BUS_PREFIX = 'vigil';
/** A prefix is one subject token and the start of stream names: no dots, wildcards, or `_` (the separator). */
export const BUS_PREFIX = /^[A-Za-z0-9-]{1,32}$/;
const BUS_URL = /^nats:\/\/(\[[0-9a-fA-F:.]+\]|[^:\s/[\]@]+):(\d{1,5})$/;

/** The bus address as given when it is `nats://HOST:PORT`, undefined otherwise. */
export function parseBusUrl(text: string): string | undefined {
  const match = BUS_URL.exec(text.trim());
  return match && Number(match[2]) <= 65535 ? text.trim() : undefined;
}

export interface Retention {
  maxAgeMs?: number;
  maxBytes?: number;
}

export interface SyslogListener {
  protocol: 'udp' | 'tcp' | 'tls';
  listen: string;
  /** The tenant of messages from addresses no `sources` entry names. */
  tenant?: string;
  sources: { network: string; tenant: string }[];
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/;
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
  TB: 1e12,
  TiB: 1024 ** 4,
};

export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2] ?? 'B']!);
}

const duration = z.string().refine((text) => parseTimespan(text) !== undefined, {
  message: 'a duration such as 30s, 5m, 1h or 30d',
});
const size = z.union([z.string(), z.number()]).refine((value) => parseSize(value) !== undefined, {
  message: 'a size such as 512KiB, 16MiB or 10GiB',
});
const address = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'HOST:PORT');
const tenantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant name');
const retention = z.strictObject({ max_age: duration.optional(), max_bytes: size.optional() });
const busUrl = z.string().refine((text) => parseBusUrl(text) !== undefined, { message: 'nats://HOST:PORT' });
const bus = z.preprocess(
  // `bus: nats://HOST:PORT` alone is the common case.
  (value) => (typeof value === 'string' ? { url: value } : value),
  z.strictObject({
    url: busUrl,
    prefix: z
      .string()
      .regex(BUS_PREFIX, "1 to 32 letters, digits or '-' (it starts subjects and stream names)")
      .optional(),
    replicas: z.number().int().min(1).max(5).optional(),
  }),
);

export const NODE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const schema = z.strictObject({
  listen: address.optional(),
  store: z
    .string()
    .refine(isPostgresUrl, { message: 'a postgres:// URL (leave it out for SQLite in the data folder)' })
    .optional(),
  rules: z.array(z.string()).optional(),
  filters: z.array(z.string()).optional(),
  pipelines: z.array(z.string()).optional(),
  placeholders: z.string().optional(),
  threads: z.number().int().min(1).max(256).optional(),
  tls: z.strictObject({ cert: z.string(), key: z.string(), client_ca: z.string().optional() }).optional(),
  allow_plaintext: z.boolean().optional(),
  syslog: z
    .array(
      z.strictObject({
        protocol: z.enum(['udp', 'tcp', 'tls']),
        listen: address,
        tenant: tenantName.optional(),
        sources: z
          .array(
            z.strictObject({
              network: z
                .string()
                .refine((text) => parseCidr(text) !== undefined, { message: 'a CIDR network' }),
              tenant: tenantName,
            }),
          )
          .optional(),
      }),
    )
    .optional(),
  watch: z.array(z.strictObject({ path: z.string(), tenant: tenantName })).optional(),
  lateness: duration.optional(),
  geoip: z.string().min(1).optional(),
  alerts: z
    .strictObject({
      window: duration.optional(),
      rules: z.record(z.string(), z.strictObject({ window: duration })).optional(),
    })
    .optional(),
  retention: retention.extend({ tenants: z.record(tenantName, retention).optional() }).optional(),
  limits: z
    .strictObject({
      body_bytes: size.optional(),
      line_bytes: size.optional(),
      backlog_events: z.number().int().min(1).optional(),
    })
    .optional(),
  fetch: z
    .strictObject({
      allow_hosts: z
        .array(
          z.string().refine((entry) => allowEntryProblem(entry) === undefined, {
            message: 'a host name, *.domain, address or network',
          }),
        )
        .optional(),
      max_bytes: size.optional(),
      timeout: duration.optional(),
    })
    .optional(),
  indicators: z
    .strictObject({
      global: z.array(z.string().min(1)).optional(),
      tenants: z.record(tenantName, z.array(z.string().min(1))).optional(),
    })
    .optional(),
  response: z
    .strictObject({
      playbooks: z.array(z.string()).optional(),
      connectors: z.string().optional(),
      tick: duration.optional(),
    })
    .optional(),
  console: z
    .strictObject({
      session_idle: duration.optional(),
      session_max: duration.optional(),
    })
    .optional(),
  bus: bus.optional(),
  cluster: z
    .strictObject({
      node: z.string().regex(NODE_NAME, "letters, digits, '.', '_' or '-' (at most 64)").optional(),
      lease_ttl: duration.optional(),
      heartbeat: duration.optional(),
    })
    .optional(),
});

export const CONFIG_FILE = 'config.yml';

export const DEFAULT_LISTEN = '127.0.0.1:8600';

function clusterOf(c: { node?: string; lease_ttl?: string; heartbeat?: string } | undefined): ClusterConfig {
  const leaseTtlMs = parseTimespan(c?.lease_ttl ?? '15s')!;
  // Several renewals fit in a lease, so one slow round does not lose it.
  const heartbeatMs = c?.heartbeat ? parseTimespan(c.heartbeat)! : Math.max(200, Math.floor(leaseTtlMs / 5));
  return {
    node:
      c?.node ??
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 64),
    leaseTtlMs,
    heartbeatMs,
  };
}

/** Reads `config.yml` of the data folder (all defaults when absent); errors name the file, line and key. */
export function loadServiceConfig(dataDir: string): ServiceConfig {
  const file = join(dataDir, CONFIG_FILE);
  if (!existsSync(file)) return parseServiceConfig({}, file);
  const [document] = readYamlDocuments(readFileSync(file, 'utf8'), file, 'CONFIG_INVALID');
  try {
    return parseServiceConfig(document?.data ?? {}, file);
  } catch (error) {
    // Point at the key at fault: the schema names it by path, the document knows its line.
    if (error instanceof VigilError && error.location.field && document)
      throw new VigilError(error.code, error.message, {
        ...error.location,
        line: document.lineOf(error.location.field.split('.')),
      });
    throw error;
  }
}

export function parseServiceConfig(data: unknown, file: string): ServiceConfig {
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new VigilError('CONFIG_INVALID', issue.message, { file, field: issue.path.join('.') });
  }
  const c = result.data;
  const ms = (text: string | undefined) => (text === undefined ? undefined : parseTimespan(text));
  const bytes = (value: string | number | undefined) => (value === undefined ? undefined : parseSize(value));
  const retentionOf = (r: z.infer<typeof retention> | undefined): Retention => ({
    maxAgeMs: ms(r?.max_age),
    maxBytes: bytes(r?.max_bytes),
  });
  return {
    listen: c.listen ?? DEFAULT_LISTEN,
    rules: c.rules,
    filters: c.filters,
    pipelines: c.pipelines,
    placeholders: c.placeholders,
    threads: c.threads ?? 1,
    tls: c.tls && { cert: c.tls.cert, key: c.tls.key, clientCa: c.tls.client_ca },
    allowPlaintext: c.allow_plaintext ?? false,
    syslog: (c.syslog ?? []).map((s) => ({ ...s, sources: s.sources ?? [] })),
    watch: c.watch ?? [],
    latenessMs: ms(c.lateness) ?? 5 * 60_000,
    ...(c.geoip ? { geoip: c.geoip } : {}),
    alerts: {
      windowMs: ms(c.alerts?.window) ?? 3_600_000,
      rules: new Map(Object.entries(c.alerts?.rules ?? {}).map(([rule, v]) => [rule, ms(v.window)!])),
    },
    retention: {
      default: {
        maxAgeMs: ms(c.retention?.max_age) ?? 30 * 86_400_000,
        maxBytes: bytes(c.retention?.max_bytes),
      },
      tenants: new Map(Object.entries(c.retention?.tenants ?? {}).map(([t, r]) => [t, retentionOf(r)])),
    },
    limits: {
      bodyBytes: bytes(c.limits?.body_bytes) ?? 16 * 1024 ** 2,
      lineBytes: bytes(c.limits?.line_bytes) ?? 1024 ** 2,
      backlogEvents: c.limits?.backlog_events ?? 1_000_000,
    },
    fetch: {
      allowHosts: c.fetch?.allow_hosts ?? [],
      maxBytes: bytes(c.fetch?.max_bytes) ?? DEFAULT_FETCH_LIMITS.maxBytes,
      timeoutMs: ms(c.fetch?.timeout) ?? DEFAULT_FETCH_LIMITS.timeoutMs,
    },
    indicators: {
      global: c.indicators?.global ?? [],
      tenants: new Map(Object.entries(c.indicators?.tenants ?? {})),
    },
    response: {
      playbooks: c.response?.playbooks ?? ['playbooks'],
      connectors: c.response?.connectors ?? 'connectors.yml',
      tickMs: ms(c.response?.tick) ?? 30_000,
    },
    console: {
      sessionIdleMs: ms(c.console?.session_idle) ?? 30 * 60_000,
      sessionMaxMs: ms(c.console?.session_max) ?? 12 * 3_600_000,
    },
    store: c.store,
    cluster: clusterOf(c.cluster),
    ...(c.bus && {
      bus: {
        url: c.bus.url.trim(),
        prefix: c.bus.prefix ?? DEFAULT_BUS_PREFIX,
        replicas: c.bus.replicas ?? 1,
      },
    }),
  };
}
