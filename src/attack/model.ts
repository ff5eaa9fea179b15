/**
 * The ATT&CK knowledge Vigil keeps: plain data, serialisable as JSON (it is cached that way), with
 * objects named by their ATT&CK IDs (`T1059.001`, `TA0002`, `G0045`, `M1038`, `S0154`, `C0017`,
 * `DC0032`) rather than STIX ids, because that is how people and Sigma tags name them.
 */

export interface Tactic {
  id: string;
  /** The kill-chain phase name techniques refer to, e.g. `defense-evasion`. */
  shortName: string;
  name: string;
  description: string;
}

/** A technique's use by a group, software or campaign, with what the source says about it. */
export interface Use {
  technique: string;
  description?: string;
}

export interface Technique {
  id: string;
  name: string;
  description: string;
  /** Tactic short names, in the order of the matrix. */
  tactics: string[];
  platforms: string[];
  /** Data components (`DC0032`) whose logs can show this technique. */
  dataComponents: string[];
  /** How to detect it: the technique's detection text, or its detection strategies' analytics. */
  detection: string;
  /** Mitigations (`M1038`) that apply. */
  mitigations: string[];
  parent?: string;
  subtechniques: string[];
  deprecated: boolean;
  revoked: boolean;
  /** For a revoked technique: the ID of the one that replaced it. */
  revokedBy?: string;
  url?: string;
}

export interface Mitigation {
  id: string;
  name: string;
  description: string;
  techniques: string[];
  deprecated: boolean;
  url?: string;
}

export interface Group {
  id: string;
  name: string;
  aliases: string[];
  description: string;
  techniques: Use[];
  software: string[];
  deprecated: boolean;
  revoked: boolean;
  revokedBy?: string;
  url?: string;
}

export interface Software {
  id: string;
  name: string;
  type: 'malware' | 'tool';
  aliases: string[];
  description: string;
  platforms: string[];
  techniques: Use[];
  deprecated: boolean;
  revoked: boolean;
  revokedBy?: string;
  url?: string;
}

export interface Campaign {
  id: string;
  name: string;
  aliases: string[];
  description: string;
  techniques: Use[];
  groups: string[];
  firstSeen?: string;
  lastSeen?: string;
  url?: string;
}

export interface LogSourceReference {
  name: string;
  channel?: string;
}

export interface DataComponent {
  id: string;
  name: string;
  /** Data source name (`Process`) where the bundle still has data sources. */
  dataSource?: string;
  description: string;
  logSources: LogSourceReference[];
  url?: string;
}

export interface AttackKnowledge {
  /** `x_mitre_version` of the collection, e.g. `18.1`, or undefined when the bundle does not say. */
  version?: string;
  /** Newest `modified` date of the collection. */
  modified?: string;
  /** In matrix order. */
  tactics: Tactic[];
  techniques: Technique[];
  mitigations: Mitigation[];
  groups: Group[];
  software: Software[];
  campaigns: Campaign[];
  dataComponents: DataComponent[];
  /**
   * Names each technique ID carried in earlier releases (from the name history), beyond its
   * current name: how advisories written years ago still find it.
   */
  formerNames: Record<string, string[]>;
}
