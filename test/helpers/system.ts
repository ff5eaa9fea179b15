import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** Runs a command (no shell) and returns its status and output. */
export function sh(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Whether this machine lets a test make network namespaces with their own nftables (root,
 * iproute2, nftables); tests that need them skip with a loud message when it does not.
 */
export function namespacesWork(what: string): boolean {
  const probe = `vigil-probe-${process.pid}`;
  let works = sh(['ip', 'netns', 'add', probe]).status === 0;
  if (works) {
    works = sh(['ip', 'netns', 'exec', probe, 'nft', 'list', 'ruleset']).status === 0;
    sh(['ip', 'netns', 'del', probe]);
  }
  if (!works)
    console.warn(
      `\n*** network namespaces or nft are not available here (root, iproute2, nftables): ${what} SKIPPED ***\n`,
    );
  return works;
}

/** A TCP port on loopback that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
