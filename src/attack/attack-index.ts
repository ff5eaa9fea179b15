import { addDistinct } from '../core/index.js';
import { compareIds } from './build.js';
import type {
  AttackKnowledge,
  Campaign,
  DataComponent,
  Group,
  Mitigation,
  Software,
  Tactic,
  Technique,
} from './model.js';
import { canonicalTechniqueId, normalizeName, stem, words } from './names.js';

/** How a query reached a technique. */
export type TechniqueVia = 'id' | 'revoked-id' | 'name' | 'former-name';

export interface TechniqueMatch {
  technique: Technique;
  via: TechniqueVia;
  /** The ID or name as asked, when it is not the technique's own (a revoked ID, a former name). */
  asked?: string;
}

/** Any object of the knowledge base that `show` and `search` reach, by kind. */
export type AttackEntry =
  | { kind: 'technique'; match: TechniqueMatch }
  | { kind: 'tactic'; tactic: Tactic }
  | { kind: 'group'; group: Group }
  | { kind: 'software'; software: Software }
  | { kind: 'campaign'; campaign: Campaign }
  | { kind: 'mitigation'; mitigation: Mitigation }
  | { kind: 'data-component'; component: DataComponent };

export type AttackKind = AttackEntry['kind'];

/** In the order lookups and ties in searches list them. */
export const ATTACK_KINDS: readonly AttackKind[] = [
  'technique',
  'tactic',
  'group',
  'software',
  'campaign',
  'mitigation',
  'data-component',
];

export interface AttackSearchResult {
  entry: AttackEntry;
  id: string;
  name: string;
  score: number;
}

/** Lookups over one loaded ATT&CK release: IDs, names old and new, aliases. */
export class AttackIndex {
  readonly knowledge: AttackKnowledge;
  private readonly techniquesById = new Map<string, Technique>();
  private readonly techniquesByName = new Map<string, string[]>();
  private readonly techniquesByFormerName = new Map<string, string[]>();
  private readonly tacticsByKey = new Map<string, Tactic>();
  private readonly groupsByKey = new Map<string, Group[]>();
  private readonly softwareByKey = new Map<string, Software[]>();
  private readonly mitigationsById = new Map<string, Mitigation>();
  private readonly componentsById = new Map<string, DataComponent>();
  private readonly campaignsByKey = new Map<string, Campaign[]>();
  private readonly mitigationsByName = new Map<string, Mitigation[]>();
  private readonly componentsByName = new Map<string, DataComponent[]>();

  constructor(knowledge: AttackKnowledge) {
    this.knowledge = knowledge;
    for (const technique of knowledge.techniques) {
      this.techniquesById.set(technique.id, technique);
      // Revoked objects keep their IDs but not their names: a revoked name often equals the
      // replacement's, and the former-name table catches the rest.
      if (!technique.revoked) addDistinct(this.techniquesByName, normalizeName(technique.name), technique.id);
    }
    for (const [id, names] of Object.entries(knowledge.formerNames)) {
      for (const name of names) addDistinct(this.techniquesByFormerName, normalizeName(name), id);
    }
    for (const tactic of knowledge.tactics) {
      for (const key of [tactic.id.toLowerCase(), tactic.shortName, normalizeName(tactic.name)]) {
        this.tacticsByKey.set(key, tactic);
      }
    }
    for (const group of knowledge.groups) {
      for (const key of [group.id, group.name, ...group.aliases])
        addDistinct(this.groupsByKey, normalizeName(key), group);
    }
    for (const item of knowledge.software) {
      for (const key of [item.id, item.name, ...item.aliases])
        addDistinct(this.softwareByKey, normalizeName(key), item);
    }
    for (const campaign of knowledge.campaigns) {
      for (const key of [campaign.id, campaign.name, ...campaign.aliases])
        addDistinct(this.campaignsByKey, normalizeName(key), campaign);
    }
    for (const mitigation of knowledge.mitigations) {
      this.mitigationsById.set(mitigation.id, mitigation);
      addDistinct(this.mitigationsByName, normalizeName(mitigation.name), mitigation);
    }
    for (const component of knowledge.dataComponents) {
      this.componentsById.set(component.id, component);
      addDistinct(this.componentsByName, normalizeName(component.name), component);
    }
  }

  get version(): string | undefined {
    return this.knowledge.version;
  }

  /** Tactics in matrix order. */
  get tactics(): readonly Tactic[] {
    return this.knowledge.tactics;
  }

  /** Every technique and sub-technique that is neither revoked nor deprecated. */
  activeTechniques(): Technique[] {
    return this.knowledge.techniques.filter((t) => !t.revoked && !t.deprecated);
  }

  /** The technique with exactly this ID (revoked and deprecated ones included), any case. */
  technique(id: string): Technique | undefined {
    const canonical = canonicalTechniqueId(id);
    return canonical ? this.techniquesById.get(canonical) : undefined;
  }

  /**
   * The techniques an ID or name stands for. A revoked ID leads to its replacement; a name may be
   * current or former (renamed in a later release), may be written `Parent: Sub-technique`, and is
   * compared in normalised form. A name shared by several sub-techniques ("Domain Account") gives all
   * of them. Empty when this release does not know the query.
   */
  resolveTechnique(query: string): TechniqueMatch[] {
    const canonical = canonicalTechniqueId(query);
    if (canonical) {
      const technique = this.techniquesById.get(canonical);
      if (!technique) return [];
      const replacement = this.followRevocation(technique);
      if (replacement !== technique) return [{ technique: replacement, via: 'revoked-id', asked: canonical }];
      return [{ technique, via: 'id' }];
    }
    const colon = query.indexOf(':');
    if (colon > 0) {
      const parents = this.resolveTechnique(query.slice(0, colon));
      const subName = normalizeName(query.slice(colon + 1));
      const matches: TechniqueMatch[] = [];
      for (const { technique: parent } of parents) {
        for (const subId of parent.subtechniques) {
          const sub = this.techniquesById.get(subId)!;
          if (!sub.revoked && normalizeName(sub.name) === subName)
            matches.push({ technique: sub, via: 'name' });
        }
      }
      if (matches.length > 0) return matches;
    }
    const key = normalizeName(query);
    const current = this.techniquesByName.get(key);
    if (current) return current.map((id) => ({ technique: this.techniquesById.get(id)!, via: 'name' }));
    const former = this.techniquesByFormerName.get(key);
    if (!former) return [];
    const seen = new Set<string>();
    const matches: TechniqueMatch[] = [];
    for (const id of former) {
      const known = this.techniquesById.get(id);
      if (!known) continue;
      const technique = this.followRevocation(known);
      if (seen.has(technique.id)) continue;
      seen.add(technique.id);
      matches.push({ technique, via: 'former-name', asked: query.trim() });
    }
    return matches;
  }

  /** Follows `revoked-by` links to the technique in use now (the technique itself if not revoked). */
  followRevocation(technique: Technique): Technique {
    let current = technique;
    for (let hops = 0; current.revoked && current.revokedBy && hops < 10; hops++) {
      const next = this.techniquesById.get(current.revokedBy);
      if (!next) break;
      current = next;
    }
    return current;
  }

  /** Names the technique carried in earlier releases. */
  formerNames(id: string): string[] {
    return this.knowledge.formerNames[id] ?? [];
  }

  /** A tactic by ID (`TA0005`), short name (`defense-evasion`, `defense_evasion`) or name. */
  tactic(query: string): Tactic | undefined {
    const trimmed = query.trim().toLowerCase();
    return (
      this.tacticsByKey.get(trimmed) ??
      this.tacticsByKey.get(trimmed.replace(/_/g, '-')) ??
      this.tacticsByKey.get(normalizeName(query))
    );
  }

  /** Groups by ID (`G0065`), name or alias (`APT40`). Several when an alias is shared. */
  groups(query: string): Group[] {
    return this.groupsByKey.get(normalizeName(query)) ?? [];
  }

  software(query: string): Software[] {
    return this.softwareByKey.get(normalizeName(query)) ?? [];
  }

  mitigation(id: string): Mitigation | undefined {
    return this.mitigationsById.get(id.trim().toUpperCase());
  }

  dataComponent(id: string): DataComponent | undefined {
    return this.componentsById.get(id.trim().toUpperCase());
  }

  /** Campaigns by ID (`C0017`), name or alias. */
  campaigns(query: string): Campaign[] {
    return this.campaignsByKey.get(normalizeName(query)) ?? [];
  }

  /**
   * Every object an ID or a name stands for, of any kind: techniques (also by former names and
   * revoked IDs), tactics, groups, software and campaigns (also by alias), mitigations and data
   * components. Several when kinds share a name; empty when this release knows none.
   */
  lookup(query: string): AttackEntry[] {
    const techniques = this.resolveTechnique(query);
    // A technique ID is nothing else; a name may be several things.
    if (canonicalTechniqueId(query)) return techniques.map((match) => ({ kind: 'technique', match }));
    const key = normalizeName(query);
    const id = query.trim().toUpperCase();
    const tactic = this.tactic(query);
    const mitigations = unique([
      ...(this.mitigationsById.has(id) ? [this.mitigationsById.get(id)!] : []),
      ...(this.mitigationsByName.get(key) ?? []),
    ]);
    // ATT&CK writes components with their data source, "Process: Process Creation".
    const colon = query.indexOf(':');
    const components = unique([
      ...(this.componentsById.has(id) ? [this.componentsById.get(id)!] : []),
      ...(this.componentsByName.get(key) ?? []),
      ...(colon > 0 ? (this.componentsByName.get(normalizeName(query.slice(colon + 1))) ?? []) : []),
    ]);
    return [
      ...techniques.map((match): AttackEntry => ({ kind: 'technique', match })),
      ...(tactic ? [{ kind: 'tactic', tactic } as const] : []),
      ...this.groups(query).map((group): AttackEntry => ({ kind: 'group', group })),
      ...this.software(query).map((software): AttackEntry => ({ kind: 'software', software })),
      ...this.campaigns(query).map((campaign): AttackEntry => ({ kind: 'campaign', campaign })),
      ...mitigations.map((mitigation): AttackEntry => ({ kind: 'mitigation', mitigation })),
      ...components.map((component): AttackEntry => ({ kind: 'data-component', component })),
    ];
  }

  /**
   * Objects whose text holds every word of the query (compared by stem), best first: words in the
   * name count most, then in IDs, aliases and former names, then in the description (and a
   * technique's detection text). Revoked and deprecated objects are left out.
   */
  search(
    text: string,
    options: { limit?: number; kinds?: readonly AttackKind[] } = {},
  ): AttackSearchResult[] {
    const query = stems(text);
    if (query.length === 0) return [];
    const phrase = query.join(' ');
    const kinds = new Set(options.kinds ?? ATTACK_KINDS);
    const results: AttackSearchResult[] = [];
    for (const entry of this.searchEntries()) {
      if (!kinds.has(entry.entry.kind)) continue;
      const { name, aliases, body } = entry;
      let score = 0;
      let all = true;
      for (const word of query) {
        if (name.words.has(word)) score += 10;
        else if (aliases.words.has(word)) score += 6;
        else if (body.words.has(word)) score += 1;
        else all = false;
      }
      if (!all) continue;
      if (name.text === phrase) score += 100;
      else if (` ${name.text} `.includes(` ${phrase} `)) score += 20;
      else if (` ${body.text} `.includes(` ${phrase} `)) score += 5;
      results.push({ entry: entry.entry, id: entry.id, name: entry.title, score });
    }
    const rank = (kind: AttackKind) => ATTACK_KINDS.indexOf(kind);
    return results
      .sort((a, b) => b.score - a.score || rank(a.entry.kind) - rank(b.entry.kind) || compareIds(a.id, b.id))
      .slice(0, options.limit ?? 20);
  }

  /** Techniques whose text mentions every word of the query, best first (see `search`). */
  searchTechniques(text: string, limit = 20): { technique: Technique; score: number }[] {
    return this.search(text, { limit, kinds: ['technique'] }).map(({ entry, score }) => ({
      technique: (entry as Extract<AttackEntry, { kind: 'technique' }>).match.technique,
      score,
    }));
  }

  private searchCache?: SearchEntry[];

  private searchEntries(): SearchEntry[] {
    if (this.searchCache) return this.searchCache;
    const k = this.knowledge;
    const entry = (
      value: AttackEntry,
      id: string,
      title: string,
      aliases: readonly string[],
      body: string,
    ): SearchEntry => ({
      entry: value,
      id,
      title,
      name: stemmedText(title),
      aliases: stemmedText([id, ...aliases].join(' ')),
      body: stemmedText(body),
    });
    this.searchCache = [
      ...this.activeTechniques().map((technique) =>
        entry(
          { kind: 'technique', match: { technique, via: 'id' } },
          technique.id,
          technique.name,
          this.formerNames(technique.id),
          `${technique.description} ${technique.detection}`,
        ),
      ),
      ...k.tactics.map((tactic) =>
        entry({ kind: 'tactic', tactic }, tactic.id, tactic.name, [tactic.shortName], tactic.description),
      ),
      ...k.groups
        .filter((group) => !group.revoked && !group.deprecated)
        .map((group) =>
          entry({ kind: 'group', group }, group.id, group.name, group.aliases, group.description),
        ),
      ...k.software
        .filter((software) => !software.revoked && !software.deprecated)
        .map((software) =>
          entry(
            { kind: 'software', software },
            software.id,
            software.name,
            software.aliases,
            software.description,
          ),
        ),
      ...k.campaigns.map((campaign) =>
        entry(
          { kind: 'campaign', campaign },
          campaign.id,
          campaign.name,
          campaign.aliases,
          campaign.description,
        ),
      ),
      ...k.mitigations
        .filter((mitigation) => !mitigation.deprecated)
        .map((mitigation) =>
          entry(
            { kind: 'mitigation', mitigation },
            mitigation.id,
            mitigation.name,
            [],
            mitigation.description,
          ),
        ),
      ...k.dataComponents.map((component) =>
        entry(
          { kind: 'data-component', component },
          component.id,
          component.name,
          component.dataSource ? [component.dataSource] : [],
          component.description,
        ),
      ),
    ];
    return this.searchCache;
  }
}

interface SearchEntry {
  entry: AttackEntry;
  id: string;
  title: string;
  name: StemmedText;
  aliases: StemmedText;
  body: StemmedText;
}

interface StemmedText {
  text: string;
  words: Set<string>;
}

function stems(text: string): string[] {
  return words(text).map(stem);
}

function stemmedText(text: string): StemmedText {
  const list = stems(text);
  return { text: list.join(' '), words: new Set(list) };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
