import { setFor } from '../core/index.js';
import type {
  AttackKnowledge,
  Campaign,
  DataComponent,
  Group,
  Mitigation,
  Software,
  Tactic,
  Technique,
  Use,
} from './model.js';
import { attackId, attackUrl, type StixBundle, type StixObject } from './stix.js';

const byId = (a: { id: string }, b: { id: string }) => compareIds(a.id, b.id);

/**
 * `T1059` < `T1059.001` < `T1059.002` < `T1060`, `G9` < `G10`: runs of digits compared as
 * numbers. By hand, because `localeCompare` with numeric collation is slow enough to matter when
 * sorting every object of a bundle.
 */
export function compareIds(a: string, b: string): number {
  const partsA = a.match(/\d+|\D+/g) ?? [];
  const partsB = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(partsA.length, partsB.length); i++) {
    const x = partsA[i]!;
    const y = partsB[i]!;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return partsA.length - partsB.length;
}

/**
 * Turns a STIX bundle into Vigil's ATT&CK knowledge. Written against the structures of every
 * release Vigil has met (v7 to v18): data sources as strings on techniques (v8-v9), data components
 * detecting techniques (v10-v17), detection strategies and analytics naming data components (v18+).
 */
export function buildKnowledge(bundle: StixBundle): AttackKnowledge {
  const objects = new Map<string, StixObject>();
  for (const object of bundle.objects) objects.set(object.id, object);
  const idOf = (stixId: string | undefined) =>
    stixId ? attackId(objects.get(stixId) ?? ({} as StixObject)) : undefined;

  const collection = bundle.objects.find((o) => o.type === 'x-mitre-collection');
  const tactics = buildTactics(bundle.objects, objects);
  const tacticRank = new Map(tactics.map((t, i) => [t.shortName, i]));

  const revokedBy = new Map<string, string>();
  const relations: StixObject[] = [];
  for (const object of bundle.objects) {
    if (object.type !== 'relationship' || object.revoked || object.x_mitre_deprecated) continue;
    if (object.relationship_type === 'revoked-by') {
      const target = idOf(object.target_ref);
      if (object.source_ref && target) revokedBy.set(object.source_ref, target);
    } else relations.push(object);
  }

  const techniques = new Map<string, Technique>();
  const dataComponents = new Map<string, DataComponent>();
  const componentByName = new Map<string, string>();
  for (const object of bundle.objects) {
    const id = attackId(object);
    if (!id) continue;
    if (object.type === 'attack-pattern' && /^T\d{4}(\.\d{3})?$/.test(id)) {
      techniques.set(id, {
        id,
        name: object.name ?? id,
        description: object.description ?? '',
        tactics: (object.kill_chain_phases ?? [])
          .filter((phase) => phase.kill_chain_name === 'mitre-attack' && phase.phase_name)
          .map((phase) => phase.phase_name!)
          .sort((a, b) => (tacticRank.get(a) ?? 99) - (tacticRank.get(b) ?? 99)),
        platforms: object.x_mitre_platforms ?? [],
        dataComponents: [],
        detection: object.x_mitre_detection ?? '',
        mitigations: [],
        parent: id.includes('.') ? id.slice(0, id.indexOf('.')) : undefined,
        subtechniques: [],
        deprecated: object.x_mitre_deprecated === true,
        revoked: object.revoked === true,
        revokedBy: object.revoked ? revokedBy.get(object.id) : undefined,
        url: attackUrl(object),
      });
    } else if (object.type === 'x-mitre-data-component') {
      const source = object.x_mitre_data_source_ref ? objects.get(object.x_mitre_data_source_ref) : undefined;
      dataComponents.set(id, {
        id,
        name: object.name ?? id,
        dataSource: source?.name,
        description: object.description ?? '',
        logSources: (object.x_mitre_log_sources ?? [])
          .filter((s) => s.name)
          .map((s) => ({ name: s.name!, channel: s.channel })),
        url: attackUrl(object),
      });
      componentByName.set(componentKey(source?.name, object.name ?? ''), id);
      componentByName.set(componentKey(undefined, object.name ?? ''), id);
    }
  }
  for (const technique of techniques.values()) {
    if (technique.parent) techniques.get(technique.parent)?.subtechniques.push(technique.id);
  }

  // Data components by the structure of each release, and the detection text of v18+.
  const components = new Map<string, Set<string>>();
  const addComponent = (technique: string, component: string | undefined) => {
    if (!component) return;
    setFor(components, technique).add(component);
  };
  for (const object of bundle.objects) {
    if (object.type !== 'attack-pattern') continue;
    const id = attackId(object);
    for (const text of object.x_mitre_data_sources ?? []) {
      const [source, name] = text.includes(':') ? text.split(/:\s*/, 2) : [undefined, text];
      if (id) addComponent(id, componentByName.get(componentKey(source, name ?? '')));
    }
  }
  const analyticsText = new Map<string, string[]>();
  const mitigations = new Map<string, Mitigation>();
  const groups = new Map<string, Group>();
  const software = new Map<string, Software>();
  const campaigns = new Map<string, Campaign>();
  for (const object of bundle.objects) {
    const id = attackId(object);
    if (!id) continue;
    if (object.type === 'course-of-action' && id.startsWith('M')) {
      mitigations.set(id, {
        id,
        name: object.name ?? id,
        description: object.description ?? '',
        techniques: [],
        deprecated: object.x_mitre_deprecated === true,
        url: attackUrl(object),
      });
    } else if (object.type === 'intrusion-set') {
      groups.set(id, {
        id,
        name: object.name ?? id,
        aliases: (object.aliases ?? []).filter((alias) => alias !== object.name),
        description: object.description ?? '',
        techniques: [],
        software: [],
        deprecated: object.x_mitre_deprecated === true,
        revoked: object.revoked === true,
        revokedBy: object.revoked ? revokedBy.get(object.id) : undefined,
        url: attackUrl(object),
      });
    } else if (object.type === 'malware' || object.type === 'tool') {
      software.set(id, {
        id,
        name: object.name ?? id,
        type: object.type,
        aliases: (object.x_mitre_aliases ?? []).filter((alias) => alias !== object.name),
        description: object.description ?? '',
        platforms: object.x_mitre_platforms ?? [],
        techniques: [],
        deprecated: object.x_mitre_deprecated === true,
        revoked: object.revoked === true,
        revokedBy: object.revoked ? revokedBy.get(object.id) : undefined,
        url: attackUrl(object),
      });
    } else if (object.type === 'campaign') {
      campaigns.set(id, {
        id,
        name: object.name ?? id,
        aliases: (object.aliases ?? []).filter((alias) => alias !== object.name),
        description: object.description ?? '',
        techniques: [],
        groups: [],
        firstSeen: object.first_seen,
        lastSeen: object.last_seen,
        url: attackUrl(object),
      });
    }
  }

  for (const relation of relations) {
    const source = relation.source_ref ? objects.get(relation.source_ref) : undefined;
    const target = relation.target_ref ? objects.get(relation.target_ref) : undefined;
    if (!source || !target) continue;
    const sourceId = attackId(source);
    const targetId = attackId(target);
    if (!targetId) continue;
    const technique = target.type === 'attack-pattern' ? techniques.get(targetId) : undefined;
    switch (relation.relationship_type) {
      case 'uses': {
        if (!sourceId) break;
        const use: Use = { technique: targetId };
        if (relation.description) use.description = relation.description;
        if (technique) {
          (groups.get(sourceId) ?? software.get(sourceId) ?? campaigns.get(sourceId))?.techniques.push(use);
        } else if (source.type === 'intrusion-set' && software.has(targetId)) {
          groups.get(sourceId)?.software.push(targetId);
        }
        break;
      }
      case 'mitigates':
        if (technique && sourceId && mitigations.has(sourceId)) {
          technique.mitigations.push(sourceId);
          mitigations.get(sourceId)!.techniques.push(targetId);
        }
        break;
      case 'detects':
        if (!technique) break;
        if (source.type === 'x-mitre-data-component') addComponent(targetId, sourceId);
        else if (source.type === 'x-mitre-detection-strategy') {
          const texts = analyticsText.get(targetId) ?? [];
          if (source.name) texts.push(source.name);
          for (const ref of source.x_mitre_analytic_refs ?? []) {
            const analytic = objects.get(ref);
            if (!analytic) continue;
            if (analytic.description) texts.push(analytic.description);
            for (const logSource of analytic.x_mitre_log_source_references ?? []) {
              addComponent(targetId, idOf(logSource.x_mitre_data_component_ref));
            }
          }
          analyticsText.set(targetId, texts);
        }
        break;
      case 'attributed-to':
        if (sourceId && source.type === 'campaign' && target.type === 'intrusion-set') {
          campaigns.get(sourceId)?.groups.push(targetId);
        }
        break;
    }
  }

  for (const technique of techniques.values()) {
    technique.dataComponents = [...(components.get(technique.id) ?? [])].sort(compareIds);
    if (!technique.detection) technique.detection = (analyticsText.get(technique.id) ?? []).join('\n\n');
    technique.mitigations = unique(technique.mitigations).sort(compareIds);
    technique.subtechniques.sort(compareIds);
  }
  const sortUses = (uses: Use[]) => {
    const seen = new Map<string, Use>();
    for (const use of uses) if (!seen.has(use.technique)) seen.set(use.technique, use);
    return [...seen.values()].sort((a, b) => compareIds(a.technique, b.technique));
  };
  for (const owner of [...groups.values(), ...software.values(), ...campaigns.values()]) {
    owner.techniques = sortUses(owner.techniques);
  }
  for (const group of groups.values()) group.software = unique(group.software).sort(compareIds);
  for (const campaign of campaigns.values()) campaign.groups = unique(campaign.groups).sort(compareIds);
  for (const mitigation of mitigations.values())
    mitigation.techniques = unique(mitigation.techniques).sort(compareIds);

  return {
    version: collection?.x_mitre_version,
    modified: collection?.modified,
    tactics,
    techniques: [...techniques.values()].sort(byId),
    mitigations: [...mitigations.values()].sort(byId),
    groups: [...groups.values()].sort(byId),
    software: [...software.values()].sort(byId),
    campaigns: [...campaigns.values()].sort(byId),
    dataComponents: [...dataComponents.values()].sort(byId),
    formerNames: {},
  };
}

function buildTactics(all: StixObject[], objects: Map<string, StixObject>): Tactic[] {
  const toTactic = (object: StixObject): Tactic | undefined => {
    const id = attackId(object);
    if (!id || !object.x_mitre_shortname || object.x_mitre_deprecated || object.revoked) return undefined;
    return {
      id,
      shortName: object.x_mitre_shortname,
      name: object.name ?? id,
      description: object.description ?? '',
    };
  };
  const matrix = all.find((o) => o.type === 'x-mitre-matrix' && !o.revoked && !o.x_mitre_deprecated);
  const ordered = (matrix?.tactic_refs ?? [])
    .map((ref) => objects.get(ref))
    .filter((o): o is StixObject => o !== undefined)
    .map(toTactic)
    .filter((t): t is Tactic => t !== undefined);
  if (ordered.length > 0) return ordered;
  return all
    .filter((o) => o.type === 'x-mitre-tactic')
    .map(toTactic)
    .filter((t): t is Tactic => t !== undefined)
    .sort(byId);
}

function componentKey(source: string | undefined, name: string): string {
  return `${(source ?? '').toLowerCase()}\u0000${name.toLowerCase()}`;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
