import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type Cidr, cidrContains, describeError, parseCidr } from '../core/index.js';
import { parseSyslog, SyslogFrameSplitter } from '../logs/index.js';
import type { SyslogListener } from './config.js';
import { Backpressure, type DetectionService, type IncomingEvent } from './service.js';

/** Messages are gathered this long (or up to BATCH messages) before they are written together. */
const FLUSH_MS = 100;
const BATCH = 2000;
/** Largest syslog message taken whole (RFC 5425 asks for at least 8 KiB; devices send up to 64). */
const MAX_MESSAGE = 64 * 1024;

export interface SyslogTls {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
}

export interface SyslogCounters {
  received: number;
  /** Messages from addresses no tenant is configured for, dropped. */
  unrouted: number;
  /** UDP messages dropped while detection was too far behind (UDP cannot wait). */
  dropped: number;
  /** Messages with a part that could not be read (kept, with the note in the log). */
  malformed: number;
}

/**
 * Syslog over UDP, TCP (octet-counted or newline framing, RFC 6587) and TLS (RFC 5425): messages
 * are parsed into fields as they arrive, filed under the tenant of their source address (or the
 * listener's), and written to the event log in small batches. Syslog has no acknowledgement: what
 * is written is safe; over TCP and TLS, reading stops while detection is too far behind, so the
 * sender's own buffer holds the rest; over UDP such messages are dropped and counted.
 */
export class SyslogInput {
  readonly counters: SyslogCounters = { received: 0, unrouted: 0, dropped: 0, malformed: 0 };
  private readonly networks: { cidr: Cidr; tenant: string }[];
  private pending = new Map<string, IncomingEvent[]>();
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private udp: UdpSocket | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private paused = false;
  private warnedUnrouted = false;
  readonly source: string;
  port = 0;

  constructor(
    private readonly service: DetectionService,
    private readonly listener: SyslogListener,
    private readonly tls?: SyslogTls,
  ) {
    this.networks = listener.sources.map((s) => ({ cidr: parseCidr(s.network)!, tenant: s.tenant }));
    this.source = `syslog-${listener.protocol}`;
  }

  private tenantOf(address: string): string | undefined {
    const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
    return this.networks.find((n) => cidrContains(n.cidr, bare))?.tenant ?? this.listener.tenant;
  }

  async start(): Promise<void> {
    const [host, portText] = splitAddress(this.listener.listen);
    const port = Number(portText);
    if (this.listener.protocol === 'udp') {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      this.udp = socket;
      socket.on('message', (message, remote) => this.take(message.toString('utf8'), remote.address, false));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      this.port = socket.address().port;
      return;
    }
    const onConnection = (socket: Socket) => this.connection(socket);
    const server =
      this.listener.protocol === 'tls'
        ? createTlsServer(
            {
              key: this.tls!.key,
              cert: this.tls!.cert,
              ...(this.tls!.ca && { ca: this.tls!.ca, requestCert: true, rejectUnauthorized: true }),
            },
            onConnection,
          )
        : createTcpServer(onConnection);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    this.port = typeof bound === 'object' && bound ? bound.port : port;
  }

  private connection(socket: Socket): void {
    this.sockets.add(socket);
    const splitter = new SyslogFrameSplitter({ maxMessageSize: MAX_MESSAGE });
    const address = socket.remoteAddress ?? '';
    if (this.paused) socket.pause();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of splitter.feed(chunk))
        this.take(frame.bytes.toString('utf8'), address, frame.error !== undefined);
    });
    socket.on('end', () => {
      for (const frame of splitter.end())
        this.take(frame.bytes.toString('utf8'), address, frame.error !== undefined);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private take(text: string, address: string, cut: boolean): void {
    this.counters.received++;
    const tenant = this.tenantOf(address);
    if (!tenant) {
      this.counters.unrouted++;
      if (!this.warnedUnrouted) {
        this.warnedUnrouted = true;
        this.service.options.log(
          `${this.source}: messages from ${address} belong to no tenant (set the listener's tenant or sources in config.yml); they are dropped and counted`,
        );
      }
      return;
    }
    const received = Date.now();
    const parsed = parseSyslog(text, { receivedAt: received });
    if (parsed.error || cut) this.counters.malformed++;
    const list = this.pending.get(tenant) ?? [];
    // A message without a usable date (some RFC 3164 senders) is dated when it was received.
    list.push({ event: JSON.stringify(parsed.fields), time: parsed.time ?? received });
    this.pending.set(tenant, list);
    if (++this.size >= BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = this.pending;
    this.pending = new Map();
    this.size = 0;
    this.flushing = this.flushing.then(async () => {
      for (const [tenant, events] of batches) await this.write(tenant, events);
    });
  }

  private async write(tenant: string, events: IncomingEvent[]): Promise<void> {
    for (;;) {
      try {
        await this.service.ingest(tenant, this.source, events);
        this.resume();
        return;
      } catch (error) {
        if (!(error instanceof Backpressure)) {
          this.service.options.log(
            `${this.source}: ${events.length} messages could not be written: ${describeError(error)}`,
          );
          return;
        }
        if (this.udp) {
          this.counters.dropped += events.length;
          return;
        }
        // Stop reading: the senders' TCP buffers fill and they slow down, nothing is lost.
        this.pause();
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Stops listening and writes what was received. */
  async close(): Promise<void> {
    this.udp?.close();
    for (const socket of this.sockets) socket.end();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.flush();
    await this.flushing;
  }
}

export function splitAddress(address: string): [string, string] {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`'${address}' is not HOST:PORT`);
  return [match[1]!.replace(/^\[|\]$/g, ''), match[2]!];
}
