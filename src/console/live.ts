import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DetectionService } from '../service/index.js';
import type { ConsoleUser } from './session.js';

/** How often an idle stream proves it is alive, and checks that its session still is. */
const HEARTBEAT_MS = 15_000;

/**
 * The live queue: a server-sent event per alert opened in the user's scope, carrying only its
 * id (the page asks for the rows it may show). The stream ends when the session does.
 */
export function streamAlerts(
  request: FastifyRequest,
  reply: FastifyReply,
  service: DetectionService,
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
  const stop = service.onAlertOpened((opened) => {
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
  const close = () => {
    clearInterval(heartbeat);
    stop();
  };
  request.raw.on('close', close);
  out.on('close', close);
}
