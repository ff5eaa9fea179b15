import type { Command } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../core/index.js';
import {
  type BusConfig,
  eventLogPlace,
  type LeaseRow,
  type NodeRow,
  openEventLog,
  type PostgresServiceStore,
  type ServiceConfig,
  type ServiceStore,
} from '../service/index.js';
import { withBus } from './bus-option.js';
import { table } from './terminal.js';

export interface TenantLag {
  tenant: string;
  node: string | null;
  epoch: number | null;
  /** Last position accepted into the tenant's stream, and the last one detection stored. */
  accepted: number;
  processed: number;
  lag: number;
  bytes: number;
}

export interface ClusterStatus {
  nodes: (NodeRow & { tenants: number })[];
  tenants: TenantLag[];
}

/** The cluster as its store and bus see it: nodes, who holds each tenant, how far behind each is. */
export async function clusterStatus(
  store: ServiceStore,
  bus: BusConfig,
  config: ServiceConfig,
): Promise<ClusterStatus> {
  const cluster = (store as Partial<PostgresServiceStore>).cluster?.bind(store);
  if (!cluster)
    throw new VigilError(
      'NOT_A_CLUSTER',
      'cluster status needs the cluster store: give --store postgres://…',
      {},
    );
  const { nodes, leases } = await cluster(config.cluster.leaseTtlMs);
  const log = await openEventLog(eventLogPlace('', bus), {
    readOnly: true,
    name: 'vigil admin cluster status',
  });
  try {
    const leaseOf = new Map<string, LeaseRow>(leases.map((l) => [l.tenant, l]));
    const names = [...new Set([...log.tenants(), ...(await store.tenants()).map((t) => t.name)])].sort();
    const tenants: TenantLag[] = [];
    for (const tenant of names) {
      const lease = leaseOf.get(tenant);
      const accepted = log.head(tenant);
      const processed = await store.position(tenant);
      tenants.push({
        tenant,
        node: lease?.node ?? null,
        epoch: lease?.epoch ?? null,
        accepted,
        processed,
        lag: Math.max(0, accepted - processed),
        bytes: log.size(tenant),
      });
    }
    return {
      nodes: nodes.map((n) => ({ ...n, tenants: tenants.filter((t) => t.node === n.node).length })),
      tenants,
    };
  } finally {
    await log.close();
  }
}

export function printClusterStatus(status: ClusterStatus): void {
  const out = process.stdout;
  out.write(`${pc.bold('Nodes')}\n`);
  out.write(
    `${table(
      ['node', 'state', 'last heard', 'tenants', 'listen', 'pid'],
      status.nodes.map((n) => [
        n.node,
        n.live ? pc.green('live') : pc.red('silent'),
        n.seenAt,
        String(n.tenants),
        String(n.info.listen ?? ''),
        String(n.info.pid ?? ''),
      ]),
    )}\n`,
  );
  out.write(`${pc.bold('Tenants')}\n`);
  out.write(
    `${table(
      ['tenant', 'detected by', 'epoch', 'accepted', 'processed', 'lag', 'stream bytes'],
      status.tenants.map((t) => [
        t.tenant,
        t.node ?? pc.yellow('nobody'),
        t.epoch === null ? '' : String(t.epoch),
        String(t.accepted),
        String(t.processed),
        t.lag ? pc.yellow(String(t.lag)) : '0',
        String(t.bytes),
      ]),
    )}\n`,
  );
  const unowned = status.tenants.filter((t) => t.node === null && t.lag > 0).length;
  if (unowned)
    out.write(pc.yellow(`${unowned} tenants with events waiting have no node detecting for them\n`));
}

/** `vigil admin cluster status`: the bus comes from --bus, else the data folder's config.yml. */
export function registerClusterStatus(
  admin: Command,
  open: (command: Command) => Promise<{ store: ServiceStore; config: ServiceConfig }>,
): void {
  admin
    .command('cluster')
    .description('a cluster of vigil serve nodes (--store postgres://… and a bus)')
    .command('status')
    .description('nodes, which node detects for each tenant, and how far behind each tenant is')
    .option('--bus <nats://host:port>', "the cluster's bus (default: the data folder's config.yml)")
    .option('--json', 'print JSON')
    .action(async (flags: { bus?: string; json?: boolean }, command: Command) => {
      const { store, config: fromFolder } = await open(command);
      try {
        const config = withBus(fromFolder, flags.bus);
        if (!config.bus)
          throw new VigilError(
            'NOT_A_CLUSTER',
            'cluster status needs the bus: give --bus nats://HOST:PORT',
            {},
          );
        const status = await clusterStatus(store, config.bus, config);
        if (flags.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        else printClusterStatus(status);
      } finally {
        await store.close();
      }
    });
}
