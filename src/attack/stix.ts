import { readFileSync } from 'node:fs';
import { VigilError } from '../core/index.js';

/** The few STIX properties Vigil reads; everything else in the bundle is ignored. */
export interface StixObject {
  type: string;
  id: string;
  name?: string;
  description?: string;
  modified?: string;
  revoked?: boolean;
  x_mitre_deprecated?: boolean;
  external_references?: { source_name?: string; external_id?: string; url?: string }[];
  kill_chain_phases?: { kill_chain_name?: string; phase_name?: string }[];
  x_mitre_platforms?: string[];
  x_mitre_is_subtechnique?: boolean;
  x_mitre_detection?: string;
  x_mitre_data_sources?: string[];
  x_mitre_shortname?: string;
  x_mitre_version?: string;
  x_mitre_data_source_ref?: string;
  x_mitre_log_sources?: { name?: string; channel?: string }[];
  x_mitre_analytic_refs?: string[];
  x_mitre_log_source_references?: { x_mitre_data_component_ref?: string; name?: string; channel?: string }[];
  x_mitre_aliases?: string[];
  aliases?: string[];
  tactic_refs?: string[];
  first_seen?: string;
  last_seen?: string;
  relationship_type?: string;
  source_ref?: string;
  target_ref?: string;
}

export interface StixBundle {
  objects: StixObject[];
}

/**
 * Reads a STIX 2.x bundle. Only the envelope is checked here (an object with an `objects` array of
 * typed, identified objects); what a malformed object lacks is treated as absent when indexed.
 */
export function readStixBundle(file: string): StixBundle {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VigilError('ATTACK_UNREADABLE', `cannot read the ATT&CK bundle: ${(error as Error).message}`, {
      file,
    });
  }
  return parseStixBundle(text, file);
}

export function parseStixBundle(text: string, file: string): StixBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VigilError('ATTACK_INVALID', `not valid JSON: ${(error as Error).message}`, { file });
  }
  const objects = (parsed as { objects?: unknown }).objects;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(objects)) {
    throw new VigilError('ATTACK_INVALID', 'not a STIX bundle: expected an object with an "objects" array', {
      file,
      field: 'objects',
    });
  }
  const valid: StixObject[] = [];
  for (const object of objects) {
    if (
      typeof object === 'object' &&
      object &&
      typeof object.type === 'string' &&
      typeof object.id === 'string'
    ) {
      valid.push(object as StixObject);
    }
  }
  return { objects: valid };
}

/** The object's ATT&CK ID (`T1059.001`, `G0045` …), from its `mitre-attack` external reference. */
export function attackId(object: StixObject): string | undefined {
  for (const reference of references(object)) {
    if (reference?.source_name === 'mitre-attack' && typeof reference.external_id === 'string')
      return reference.external_id;
  }
  return undefined;
}

export function attackUrl(object: StixObject): string | undefined {
  for (const reference of references(object)) {
    if (reference?.source_name === 'mitre-attack' && typeof reference.url === 'string') return reference.url;
  }
  return undefined;
}

/** The external references of an object that has a list of them (bundles from elsewhere may not). */
function references(object: StixObject): NonNullable<StixObject['external_references']> {
  return Array.isArray(object.external_references) ? object.external_references : [];
}
