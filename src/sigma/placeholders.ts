import { readFile } from 'node:fs/promises';
import { VigilError } from '../core/index.js';
import { SigmaError } from './errors.js';
import { parseSigmaYaml } from './yaml.js';

/**
 * A placeholder file: each placeholder name (without `%`) with one value or a list of values,
 * written as Sigma strings (wildcards allowed):
 *
 *   Administrators: ['admin*', 'svc_backup']
 *   DomainControllers: dc0?.corp.example
 */
export function parsePlaceholders(text: string, file: string): Map<string, string[]> {
  const { documents, errors } = parseSigmaYaml(text, file);
  if (errors.length) throw errors[0]!;
  const data = documents[0]?.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SigmaError('SIGMA_PLACEHOLDER', 'a placeholder file is a map of names to values', {
      file,
      line: 1,
    });
  }
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(data)) {
    const values = Array.isArray(value) ? value : [value];
    if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw new SigmaError('SIGMA_PLACEHOLDER', `${name}: values must be strings or numbers`, {
        file,
        line: documents[0]!.lineOf([name]),
        field: name,
      });
    }
    out.set(name.replace(/^%|%$/g, ''), values.map(String));
  }
  return out;
}

export async function loadPlaceholders(file: string): Promise<Map<string, string[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new VigilError('FILE_UNREADABLE', `cannot read placeholder file: ${(error as Error).message}`, {
      file,
    });
  }
  return parsePlaceholders(text, file);
}
