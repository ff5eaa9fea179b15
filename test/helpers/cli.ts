import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `vigil` command as a user would (no colours, no terminal). */
export function vigil(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A detection as `vigil hunt --format jsonl` writes it, as far as tests read it. */
export interface HuntedDetection {
  rule: { title: string; id?: string };
  host?: string;
  correlation?: { group: Record<string, string>; detail?: string };
}

/**
 * `vigil hunt ARGS... --format jsonl --no-progress`: the detections, and standard error (where the
 * summary goes). A failed hunt fails the test with what it printed.
 */
export function huntDetections(args: string[]): { detections: HuntedDetection[]; stderr: string } {
  const result = vigil(['hunt', ...args, '--format', 'jsonl', '--no-progress']);
  if (result.status !== 0) throw new Error(result.stderr);
  const detections = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HuntedDetection);
  return { detections, stderr: result.stderr };
}
