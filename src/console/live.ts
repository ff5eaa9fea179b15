import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DetectionService } from '../service/index.js';
import type { ConsoleUser } from './session.js';

/** How often an idle stream proves it is alive, and checks that its session still is. */
const HEARTBEAT_MS = 15_000;

/**
 * The live queue: a server-sent event per alert opened in the user's scope, carrying only its
 * id (the page asks for the rows it may show). A stream ends when its session does, and every
 * stream ends when the service stops, which would otherwise wait for the browsers to leave.
 */
export class LiveStreams {
  private readonly open = new Set<() => void>();

  constructor(private readonly service: DetectionService) {}

  stream(
    request: FastifyRequest,
    reply: FastifyReply,
    user: ConsoleUser,
    stillSignedIn: () => Promise<boolean>,
    headers: Record<string, string>,
  ): void {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    out.write('retry: 3000\n\n');
    const stop = this.service.onAlertOpened((opened) => {
      if (user.scope !== null && opened.tenant !== user.scope) return;
      out.write(`event: alert\ndata: ${JSON.stringify({ id: opened.id })}\n\n`);
    });
    const heartbeat = setInterval(() => {
      void stillSignedIn().then((alive) => {
        if (alive) out.write(': alive\n\n');
        else {
          out.write('event: signed-out\ndata: {}\n\n');
          out.end();
        }
      });
    }, HEARTBEAT_MS);
    const end = () => {
      clearInterval(heartbeat);
      stop();
      this.open.delete(end);
      if (!out.writableEnded) out.end();
    };
    this.open.add(end);
    request.raw.on('close', end);
    out.on('close', end);
  }

  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
