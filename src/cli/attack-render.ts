import pc from 'picocolors';
import type {
  AttackEntry,
  AttackIndex,
  Campaign,
  DataComponent,
  Group,
  Mitigation,
  Software,
  Tactic,
  Technique,
  TechniqueMatch,
  Use,
} from '../attack/index.js';
import { heading, printable, table } from './terminal.js';

/** How `vigil attack show` writes each kind of ATT&CK object, as text and as JSON. */

/** `Phishing: Spearphishing Attachment` for a sub-technique, as ATT&CK writes it. */
export function fullName(index: AttackIndex, technique: Technique): string {
  if (!technique.parent) return technique.name;
  const parent = index.technique(technique.parent);
  return parent ? `${parent.name}: ${technique.name}` : technique.name;
}

export function tacticNames(index: AttackIndex, technique: Technique): string {
  return technique.tactics.map((s) => index.tactic(s)?.name ?? s).join(', ');
}

/** The object's ATT&CK ID and name, as search results and headings give them. */
export function entryTitle(index: AttackIndex, entry: AttackEntry): { id: string; name: string } {
  switch (entry.kind) {
    case 'technique':
      return { id: entry.match.technique.id, name: fullName(index, entry.match.technique) };
    case 'tactic':
      return entry.tactic;
    case 'group':
      return entry.group;
    case 'software':
      return entry.software;
    case 'campaign':
      return entry.campaign;
    case 'mitigation':
      return entry.mitigation;
    case 'data-component':
      return entry.component;
  }
}

export function entryJson(index: AttackIndex, entry: AttackEntry): Record<string, unknown> {
  switch (entry.kind) {
    case 'technique':
      return techniqueMatchJson(index, entry.match);
    case 'tactic':
      return tacticJson(index, entry.tactic);
    case 'group':
      return groupJson(index, entry.group);
    case 'software':
      return softwareJson(index, entry.software);
    case 'campaign':
      return campaignJson(index, entry.campaign);
    case 'mitigation':
      return mitigationJson(index, entry.mitigation);
    case 'data-component':
      return componentJson(index, entry.component);
  }
}

export function renderEntry(index: AttackIndex, entry: AttackEntry): string {
  switch (entry.kind) {
    case 'technique':
      return renderTechniqueMatch(index, entry.match);
    case 'tactic':
      return renderTactic(index, entry.tactic);
    case 'group':
      return renderGroup(index, entry.group);
    case 'software':
      return renderSoftware(index, entry.software);
    case 'campaign':
      return renderCampaign(index, entry.campaign);
    case 'mitigation':
      return renderMitigation(index, entry.mitigation);
    case 'data-component':
      return renderComponent(index, entry.component);
  }
}

function techniqueJson(index: AttackIndex, technique: Technique) {
  return {
    kind: 'technique',
    id: technique.id,
    name: technique.name,
    fullName: fullName(index, technique),
    tactics: technique.tactics.map((s) => ({
      id: index.tactic(s)?.id ?? null,
      shortName: s,
      name: index.tactic(s)?.name ?? s,
    })),
    platforms: technique.platforms,
    parent: technique.parent ?? null,
    subtechniques: technique.subtechniques,
    dataComponents: technique.dataComponents.map((id) => ({ id, name: index.dataComponent(id)?.name ?? id })),
    mitigations: technique.mitigations.map((id) => ({ id, name: index.mitigation(id)?.name ?? id })),
    formerNames: index.formerNames(technique.id),
    deprecated: technique.deprecated,
    revoked: technique.revoked,
    url: technique.url ?? null,
    description: technique.description,
    attackVersion: index.version ?? null,
  };
}

function techniqueMatchJson(index: AttackIndex, match: TechniqueMatch) {
  return { ...techniqueJson(index, match.technique), matchedBy: match.via, asked: match.asked };
}

function renderTechniqueMatch(index: AttackIndex, { technique, via, asked }: TechniqueMatch): string {
  const data = techniqueJson(index, technique);
  const lines = [heading(`${technique.id} ${data.fullName}`)];
  if (via === 'revoked-id') lines.push(pc.yellow(`  ${asked} was revoked; it is now ${technique.id}.`));
  if (via === 'former-name') lines.push(pc.yellow(`  "${asked}" is a former name of ${technique.id}.`));
  if (technique.deprecated) lines.push(pc.yellow('  Deprecated in this ATT&CK release.'));
  lines.push(`  Tactics:     ${data.tactics.map((t) => t.name).join(', ') || '-'}`);
  lines.push(`  Platforms:   ${technique.platforms.join(', ') || '-'}`);
  if (technique.parent)
    lines.push(`  Parent:      ${technique.parent} ${index.technique(technique.parent)?.name ?? ''}`);
  if (technique.subtechniques.length) {
    lines.push(
      `  Sub-techniques: ${technique.subtechniques.map((id) => `${id} ${index.technique(id)?.name ?? ''}`).join(', ')}`,
    );
  }
  if (data.formerNames.length) lines.push(`  Former names: ${data.formerNames.join('; ')}`);
  if (data.dataComponents.length)
    lines.push(`  Data components: ${data.dataComponents.map((c) => c.name).join(', ')}`);
  if (data.mitigations.length) {
    lines.push(`  Mitigations: ${data.mitigations.map((m) => `${m.id} ${m.name}`).join(', ')}`);
  }
  return finish(lines, technique.url, technique.description);
}

/** The techniques of uses (a group's, software's or campaign's), with how, as JSON. */
function usesJson(index: AttackIndex, uses: readonly Use[]) {
  return uses.map((use) => {
    const technique = index.technique(use.technique);
    return {
      id: use.technique,
      name: technique ? fullName(index, technique) : use.technique,
      tactics: technique?.tactics ?? [],
      how: use.description,
    };
  });
}

function techniqueTable(index: AttackIndex, ids: readonly string[]): string {
  return table(
    ['ID', 'Technique', 'Tactics'],
    ids.map((id) => {
      const technique = index.technique(id);
      return [
        id,
        technique ? fullName(index, technique) : id,
        technique ? tacticNames(index, technique) : '',
      ];
    }),
  );
}

function named(ids: readonly string[], name: (id: string) => string | undefined) {
  return ids.map((id) => ({ id, name: name(id) ?? id }));
}

export function groupJson(index: AttackIndex, group: Group) {
  return {
    kind: 'group',
    id: group.id,
    name: group.name,
    aliases: group.aliases,
    revoked: group.revoked || undefined,
    revokedBy: group.revokedBy,
    techniques: usesJson(index, group.techniques),
    software: named(group.software, (id) => index.software(id)[0]?.name),
    url: group.url ?? null,
    description: group.description,
  };
}

export function renderGroup(index: AttackIndex, group: Group): string {
  const lines = [heading(`${group.id} ${group.name}`)];
  if (group.aliases.length) lines.push(`  Aliases: ${group.aliases.join(', ')}`);
  if (group.revokedBy) lines.push(pc.yellow(`  Revoked: now ${group.revokedBy}`));
  lines.push(`  ${group.techniques.length} techniques, ${group.software.length} software`, '');
  lines.push(
    techniqueTable(
      index,
      group.techniques.map((use) => use.technique),
    ),
  );
  if (group.software.length) {
    const software = named(group.software, (id) => index.software(id)[0]?.name);
    lines.push('', `  Software: ${software.map((s) => `${s.name} (${s.id})`).join(', ')}`);
  }
  return finish(lines, group.url, group.description);
}

/** The groups that use a piece of software, as ATT&CK records it. */
function groupsUsing(index: AttackIndex, software: Software): Group[] {
  return index.knowledge.groups.filter((group) => !group.revoked && group.software.includes(software.id));
}

function softwareJson(index: AttackIndex, software: Software) {
  return {
    kind: 'software',
    id: software.id,
    name: software.name,
    type: software.type,
    aliases: software.aliases,
    platforms: software.platforms,
    revoked: software.revoked || undefined,
    revokedBy: software.revokedBy,
    groups: groupsUsing(index, software).map((group) => ({ id: group.id, name: group.name })),
    techniques: usesJson(index, software.techniques),
    url: software.url ?? null,
    description: software.description,
  };
}

function renderSoftware(index: AttackIndex, software: Software): string {
  const lines = [heading(`${software.id} ${software.name} (${software.type})`)];
  if (software.aliases.length) lines.push(`  Aliases:   ${software.aliases.join(', ')}`);
  if (software.revokedBy) lines.push(pc.yellow(`  Revoked: now ${software.revokedBy}`));
  lines.push(`  Platforms: ${software.platforms.join(', ') || '-'}`);
  const groups = groupsUsing(index, software);
  if (groups.length) lines.push(`  Used by:   ${groups.map((g) => `${g.name} (${g.id})`).join(', ')}`);
  lines.push(`  ${software.techniques.length} techniques`, '');
  lines.push(
    techniqueTable(
      index,
      software.techniques.map((use) => use.technique),
    ),
  );
  return finish(lines, software.url, software.description);
}

function campaignJson(index: AttackIndex, campaign: Campaign) {
  return {
    kind: 'campaign',
    id: campaign.id,
    name: campaign.name,
    aliases: campaign.aliases,
    firstSeen: campaign.firstSeen ?? null,
    lastSeen: campaign.lastSeen ?? null,
    groups: named(campaign.groups, (id) => index.groups(id)[0]?.name),
    techniques: usesJson(index, campaign.techniques),
    url: campaign.url ?? null,
    description: campaign.description,
  };
}

function renderCampaign(index: AttackIndex, campaign: Campaign): string {
  const lines = [heading(`${campaign.id} ${campaign.name}`)];
  if (campaign.aliases.length) lines.push(`  Aliases:     ${campaign.aliases.join(', ')}`);
  if (campaign.firstSeen || campaign.lastSeen)
    lines.push(
      `  Seen:        ${campaign.firstSeen?.slice(0, 10) ?? '?'} to ${campaign.lastSeen?.slice(0, 10) ?? '?'}`,
    );
  if (campaign.groups.length) {
    const groups = named(campaign.groups, (id) => index.groups(id)[0]?.name);
    lines.push(`  Attributed:  ${groups.map((g) => `${g.name} (${g.id})`).join(', ')}`);
  }
  lines.push(`  ${campaign.techniques.length} techniques`, '');
  lines.push(
    techniqueTable(
      index,
      campaign.techniques.map((use) => use.technique),
    ),
  );
  return finish(lines, campaign.url, campaign.description);
}

function mitigationJson(index: AttackIndex, mitigation: Mitigation) {
  return {
    kind: 'mitigation',
    id: mitigation.id,
    name: mitigation.name,
    deprecated: mitigation.deprecated,
    techniques: named(mitigation.techniques, (id) => {
      const technique = index.technique(id);
      return technique && fullName(index, technique);
    }),
    url: mitigation.url ?? null,
    description: mitigation.description,
  };
}

function renderMitigation(index: AttackIndex, mitigation: Mitigation): string {
  const lines = [heading(`${mitigation.id} ${mitigation.name} (mitigation)`)];
  if (mitigation.deprecated) lines.push(pc.yellow('  Deprecated in this ATT&CK release.'));
  lines.push(`  Mitigates ${mitigation.techniques.length} techniques`, '');
  lines.push(techniqueTable(index, mitigation.techniques));
  return finish(lines, mitigation.url, mitigation.description);
}

/** The techniques a data component shows, as ATT&CK records it. */
function techniquesSeenBy(index: AttackIndex, component: DataComponent): string[] {
  return index
    .activeTechniques()
    .filter((technique) => technique.dataComponents.includes(component.id))
    .map((technique) => technique.id);
}

function componentJson(index: AttackIndex, component: DataComponent) {
  return {
    kind: 'data-component',
    id: component.id,
    name: component.name,
    dataSource: component.dataSource ?? null,
    logSources: component.logSources,
    techniques: named(techniquesSeenBy(index, component), (id) => {
      const technique = index.technique(id);
      return technique && fullName(index, technique);
    }),
    url: component.url ?? null,
    description: component.description,
  };
}

function renderComponent(index: AttackIndex, component: DataComponent): string {
  const lines = [heading(`${component.id} ${component.name} (data component)`)];
  if (component.dataSource) lines.push(`  Data source: ${component.dataSource}`);
  if (component.logSources.length) {
    const sources = component.logSources.map((s) => (s.channel ? `${s.name} (${s.channel})` : s.name));
    lines.push(`  Log sources: ${sources.slice(0, 12).join(', ')}${sources.length > 12 ? ', …' : ''}`);
  }
  const techniques = techniquesSeenBy(index, component);
  lines.push(`  Shows ${techniques.length} techniques`, '');
  lines.push(techniqueTable(index, techniques));
  return finish(lines, component.url, component.description);
}

function tacticTechniques(index: AttackIndex, tactic: Tactic): string[] {
  return index
    .activeTechniques()
    .filter((technique) => !technique.parent && technique.tactics.includes(tactic.shortName))
    .map((technique) => technique.id);
}

function tacticJson(index: AttackIndex, tactic: Tactic) {
  return {
    kind: 'tactic',
    id: tactic.id,
    name: tactic.name,
    shortName: tactic.shortName,
    techniques: named(tacticTechniques(index, tactic), (id) => index.technique(id)?.name),
    description: tactic.description,
  };
}

function renderTactic(index: AttackIndex, tactic: Tactic): string {
  const techniques = tacticTechniques(index, tactic);
  const lines = [heading(`${tactic.id} ${tactic.name} (tactic: ${tactic.shortName})`)];
  lines.push(`  ${techniques.length} techniques`, '');
  lines.push(techniqueTable(index, techniques));
  return finish(lines, undefined, tactic.description);
}

/** The link and the description's first paragraph, after the lines of an object. */
function finish(lines: string[], url: string | undefined, description: string): string {
  if (url) lines.push(`  ${pc.dim(url)}`);
  const summary = firstParagraph(description);
  if (summary) lines.push('', `  ${printable(summary)}`);
  return lines.join('\n');
}

/** The description's first paragraph without ATT&CK's citation markers. */
function firstParagraph(text: string): string {
  return (text.split(/\n\s*\n/)[0] ?? '')
    .replace(/\(Citation:[^)]*\)/g, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
