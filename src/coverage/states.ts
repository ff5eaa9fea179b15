import type { AttackIndex } from '../attack/index.js';

/**
 * What a team would see of a technique: covered (a deployed rule, its logs collected), blind
 * (deployed rules, their logs not collected), available (a public rule not deployed), uncovered
 * (no rule), or outside its telemetry: pre-compromise techniques (reconnaissance, resource
 * development) happen on the adversary's side, before any of the team's logs could show them.
 */
export const STATES = ['covered', 'blind', 'available', 'uncovered', 'outside'] as const;
export type CoverageState = (typeof STATES)[number];

/** The tactics of what an adversary does before reaching the victim's systems. */
export const PRE_COMPROMISE_TACTICS: readonly string[] = ['reconnaissance', 'resource-development'];

/** A technique all of whose tactics are pre-compromise: outside the team's telemetry. */
export function isPreCompromise(technique: { tactics: string[] }): boolean {
  return technique.tactics.length > 0 && technique.tactics.every((t) => PRE_COMPROMISE_TACTICS.includes(t));
}

export interface TechniqueCoverage {
  id: string;
  name: string;
  tactics: string[];
  /** ATT&CK platforms (Windows, Linux, IaaS, …). */
  platforms: string[];
  parent?: string;
  state: CoverageState;
  /** 0-5, see detectionScore. */
  detectionScore: number;
  /** 0-5: the share of the technique's data components the inventory collects, in fifths. */
  visibilityScore: number;
  rules: {
    /** Deployed, and their logs are collected. */
    deployed: string[];
    /** Deployed, but none of the logs they read is collected. */
    blind: string[];
    /** Reference rules that are not deployed. */
    available: string[];
  };
  /** A covering rule has regression events that show it firing. */
  validated: boolean;
  dataComponents: { id: string; name: string; visible: boolean }[];
  /** Logs the blind rules would need (any one per rule). */
  missingLogs: string[];
  /** Names of the threat profiles that use it. */
  profiles: string[];
  /** What the threat sources say of it. */
  evidence: string[];
}

/** A technique's place in the kill chain: the matrix position of its first tactic. */
export function tacticRank(attack: AttackIndex, technique: { tactics: string[] }): number {
  const first = technique.tactics[0];
  const index = attack.tactics.findIndex((t) => t.shortName === first);
  return index < 0 ? 99 : index;
}
