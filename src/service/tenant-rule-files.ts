import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, type VigilError } from '../core/index.js';
import { parseRuleText } from '../sigma/index.js';

/** A tenant's rule file name: no folders, no hidden files, a YAML extension. */
export const RULE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,115}\.ya?ml$/;

/** The loader's verdict on a rule text: its problems (with line and field), or the titles it holds. */
export function checkRuleText(
  text: string,
  file: string,
  describe: (error: VigilError) => string = describeError,
): { problems: string[]; titles: string[] } {
  const { rules, errors } = parseRuleText(text, file);
  return { problems: errors.map(describe), titles: rules.map((r) => r.title) };
}

/**
 * Writes a rule file whole and then renames it into place, so that a reload never reads half a
 * rule; false when the file already holds exactly this text (nothing to reload).
 */
export function writeRuleFile(folder: string, file: string, text: string): boolean {
  const path = join(folder, file);
  try {
    if (readFileSync(path, 'utf8') === text) return false;
  } catch {
    // Not there yet.
  }
  mkdirSync(folder, { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return true;
}

/** A tenant's rule file as the cluster store shares it between nodes. */
export interface SharedRuleFile {
  tenant: string;
  file: string;
  text: string;
  /** Grows with every change in the cluster: a node asks for what is newer than it has. */
  version: number;
}
