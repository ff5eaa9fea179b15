import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * The NATS server with JetStream the tests use: the machine's own (127.0.0.1:4222, started by
 * .ci/run when absent), or VIGIL_TEST_NATS. Tests that need it skip loudly when it is not there.
 */
export const natsUrl = process.env.VIGIL_TEST_NATS ?? 'nats://127.0.0.1:4222';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export const hasNats = await reachable(natsUrl);

if (!hasNats)
  console.warn(
    `\n*** NATS JetStream not reachable at ${natsUrl}: the JetStream event log tests are SKIPPED ***\n`,
  );

/** Whether tests may start (and stop) a nats-server of their own, to see the bus go away. */
export const canStartNats = spawnSync('nats-server', ['--version']).status === 0;

if (!canStartNats)
  console.warn('\n*** nats-server is not installed: the tests that stop and restart a bus are SKIPPED ***\n');

/** A subject and stream prefix of one test's own, so tests sharing the server never meet. */
export function testPrefix(): string {
  return `t-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every stream a test made under its prefix. */
export async function deleteStreams(prefix: string, url = natsUrl): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names(`${prefix}.>`)) names.push(name);
    for (const name of names) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/** A nats-server of a test's own (to stop and start again), with JetStream in `storeDir`. */
export async function startNatsServer(port: number, storeDir: string): Promise<ChildProcess> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: 'ignore',
  });
  const url = `nats://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await reachable(url)) return server;
    await new Promise((r) => setTimeout(r, 100));
  }
  server.kill();
  throw new Error(`nats-server did not start on ${url}`);
}

export function stopNatsServer(server: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (server.exitCode !== null) return resolve();
    server.once('exit', () => resolve());
    server.kill('SIGTERM');
  });
}
