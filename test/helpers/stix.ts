/**
 * Builders of hand-made ATT&CK objects in STIX 2.1, for what the real bundle cannot pin (revoked
 * chains, odd structures, a handful of techniques). Each takes a short key for its STIX id
 * (`attack-pattern--<key>`) and the ATT&CK id it carries.
 */

/** The reference that carries an object's ATT&CK id (T1059, TA0002, DC0032, M1036…). */
export const mitreRef = (id: string) => [{ source_name: 'mitre-attack', external_id: id }];

/** The collection object, which states the ATT&CK release. */
export const attackRelease = (version: string) => ({
  type: 'x-mitre-collection',
  id: 'x-mitre-collection--1',
  x_mitre_version: version,
});

/** The matrix, listing its tactics (by key) in matrix order. */
export const matrix = (...tacticKeys: string[]) => ({
  type: 'x-mitre-matrix',
  id: 'x-mitre-matrix--1',
  tactic_refs: tacticKeys.map((key) => `x-mitre-tactic--${key}`),
});

export const tactic = (key: string, id: string, name: string, shortName: string) => ({
  type: 'x-mitre-tactic',
  id: `x-mitre-tactic--${key}`,
  name,
  x_mitre_shortname: shortName,
  external_references: mitreRef(id),
});

/** An attack-pattern in the given tactics (by short name); `extra` adds or overrides fields. */
export const technique = (
  key: string,
  id: string,
  name: string,
  tactics: string[],
  extra: Record<string, unknown> = {},
) => ({
  type: 'attack-pattern',
  id: `attack-pattern--${key}`,
  name,
  external_references: mitreRef(id),
  kill_chain_phases: tactics.map((phase_name) => ({ kill_chain_name: 'mitre-attack', phase_name })),
  ...extra,
});

/** A relationship between two STIX ids (`uses`, `detects`, `mitigates`, `revoked-by`…). */
export const relationship = (
  key: string,
  type: string,
  source: string,
  target: string,
  extra: Record<string, unknown> = {},
) => ({
  type: 'relationship',
  id: `relationship--${key}`,
  relationship_type: type,
  source_ref: source,
  target_ref: target,
  ...extra,
});

/** The objects as the text of a bundle file. */
export const bundleText = (objects: unknown[]) =>
  JSON.stringify({ type: 'bundle', id: 'bundle--1', objects });
