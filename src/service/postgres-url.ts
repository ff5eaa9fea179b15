import { VigilError } from '../core/index.js';

/** Where a cluster store lives: the server (a postgres:// URL) and the schema in its database. */
export interface PostgresLocation {
  /** The URL to connect with, without Vigil's own `schema` parameter. */
  url: string;
  /** The schema Vigil's tables are in; undefined: the server's default (`public`). */
  schema: string | undefined;
  /** The URL as logs and errors show it: its password replaced by `***`. */
  shown: string;
}

/** Schema names go into `search_path` and DDL: keep them to plain, unquoted identifiers. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/** A URL with its password (if any) replaced, for logs and errors. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a URL a password could be read out of: show nothing of it past the scheme.
    return `${text.split('://')[0]}://…`;
  }
}

/**
 * Reads `postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=NAME` (every libpq parameter pg
 * knows, `sslmode` for one, passes through; the password may also come from PGPASSWORD).
 */
export function parsePostgresUrl(text: string): PostgresLocation {
  const shown = redactUrl(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VigilError('STORE_URL_INVALID', `'${shown}' is not a URL: give postgres://HOST/DATABASE`);
  }
  if (!isPostgresUrl(text)) throw new VigilError('STORE_URL_INVALID', `'${shown}' is not a postgres:// URL`);
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new VigilError(
      'STORE_URL_INVALID',
      `schema '${schema}' of ${shown}: use lower-case letters, digits and _, not starting with a digit`,
    );
  }
  url.searchParams.delete('schema');
  return { url: url.toString(), schema, shown };
}
