import { createHash } from 'node:crypto';

/** One change or login, as the append-only audit log keeps it. */
export interface AuditEntry {
  seq: number;
  time: string;
  /** Who: `token:ID(label)`, `admin-cli`, `service`. */
  actor: string;
  /** What, as a stable dotted name: `tenant.add`, `token.add`, `alert.update`, `rules.reload` ... */
  action: string;
  tenant: string | null;
  /** What it was done to: an alert id, a token id, a rule file. */
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditRecord = Pick<AuditEntry, 'actor' | 'action' | 'tenant' | 'target' | 'details'>;

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Each entry's hash covers its content and the hash before it, so changing, removing or
 * reordering any entry breaks every hash after it: `vigil admin audit verify` finds where.
 */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const content = JSON.stringify([
    entry.seq,
    entry.time,
    entry.actor,
    entry.action,
    entry.tenant,
    entry.target,
    entry.details,
  ]);
  return createHash('sha256').update(`${entry.prevHash}\n${content}`).digest('hex');
}

/** The entry that follows `last` (undefined: the log is empty) in the chain. */
export function chainAuditEntry(
  last: { seq: number; hash: string } | undefined,
  record: AuditRecord,
  time: string,
): AuditEntry {
  const entry = { seq: (last?.seq ?? 0) + 1, time, ...record, prevHash: last?.hash ?? GENESIS_HASH };
  return { ...entry, hash: auditHash(entry) };
}

export interface AuditVerdict {
  entries: number;
  /** The first entry that does not fit the chain, with why. */
  broken?: { seq: number; reason: string };
}

/**
 * Walks the chain in order; stops at the first entry that does not follow from the one before.
 * Entries may come page by page from a database (an async iterable) so a long log is not held whole.
 */
export async function verifyAuditChain(
  entries: Iterable<AuditEntry> | AsyncIterable<AuditEntry>,
): Promise<AuditVerdict> {
  let previous = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for await (const entry of entries) {
    count++;
    if (entry.seq !== expectedSeq) {
      return { entries: count, broken: { seq: entry.seq, reason: `entry ${expectedSeq} is missing` } };
    }
    if (entry.prevHash !== previous) {
      return { entries: count, broken: { seq: entry.seq, reason: 'does not follow the entry before it' } };
    }
    if (auditHash(entry) !== entry.hash) {
      return {
        entries: count,
        broken: { seq: entry.seq, reason: 'its content was changed after it was written' },
      };
    }
    previous = entry.hash;
    expectedSeq++;
  }
  return { entries: count };
}
