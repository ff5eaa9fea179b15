import { allowEntryProblem, type FetchOptions } from '../core/index.js';
import { UsageError } from './terminal.js';

/**
 * The hosts downloads may reach although they resolve to private addresses, as an admin sets them
 * in VIGIL_FETCH_ALLOW_HOSTS (names, `*.domain`, addresses or networks, separated by commas or spaces).
 */
export function fetchPolicy(env: NodeJS.ProcessEnv = process.env): FetchOptions {
  const entries = (env.VIGIL_FETCH_ALLOW_HOSTS ?? '').split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    const problem = allowEntryProblem(entry);
    if (problem) throw new UsageError(`VIGIL_FETCH_ALLOW_HOSTS: ${problem}: '${entry}'`);
  }
  return entries.length ? { allowHosts: entries } : {};
}
