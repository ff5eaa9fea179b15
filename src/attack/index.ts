export {
  ATTACK_KINDS,
  type AttackEntry,
  AttackIndex,
  type AttackKind,
  type AttackSearchResult,
  type TechniqueMatch,
  type TechniqueVia,
} from './attack-index.js';
export { buildKnowledge, compareIds } from './build.js';
export { buildNameHistory, HISTORY_RELEASES } from './history.js';
export { type AttackSource, attackSourceIn, cacheKnowledge, loadAttack, loadKnowledge } from './load.js';
export type {
  AttackKnowledge,
  Campaign,
  DataComponent,
  Group,
  LogSourceReference,
  Mitigation,
  Software,
  Tactic,
  Technique,
  Use,
} from './model.js';
export type { NameHistory } from './names.js';
export { canonicalTechniqueId, normalizeName, squashName, stem, words } from './names.js';
export { attackId, parseStixBundle, readStixBundle, type StixBundle, type StixObject } from './stix.js';
