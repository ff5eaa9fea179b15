import { isPostgresUrl, redactUrl } from '../service/index.js';
import { UsageError } from './terminal.js';

export const STORE_OPTION_HELP =
  'keep tenants, tokens, alerts and audit in PostgreSQL (postgres://USER@HOST/DB?schema=NAME) instead of SQLite in the data folder';

/** A --store flag, checked: a postgres:// URL (never echoed with its password). */
export function storeFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !isPostgresUrl(value))
    throw new UsageError(`--store must be a postgres:// URL, not '${redactUrl(value)}'`);
  return value;
}
