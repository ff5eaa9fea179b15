import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import {
  type AttackIndex,
  attackSourceIn,
  canonicalTechniqueId,
  loadAttack,
  type Technique,
} from '../attack/index.js';
import { contentHelp, locateContent, vigilHome } from '../content/index.js';
import { VigilError } from '../core/index.js';
import { heading, table } from './terminal.js';

/** The ATT&CK index from the content folder, or an error that says how to get one. */
export function openAttack(contentFlag: string | undefined): AttackIndex {
  const content = locateContent({ flag: contentFlag });
  const attackDir = content ? join(content.dir, 'attack') : undefined;
  if (!attackDir)
    throw new VigilError('ATTACK_MISSING', `no ATT&CK content.\n${contentHelp({ flag: contentFlag })}`);
  if (!existsSync(join(attackDir, 'enterprise-attack.json'))) {
    throw new VigilError(
      'ATTACK_MISSING',
      `no ATT&CK content: ${attackDir} has no enterprise-attack.json.\nGet it with: vigil content update --only attack`,
    );
  }
  return loadAttack(attackSourceIn(attackDir, join(vigilHome(), 'cache')));
}

interface JsonFlag {
  json: boolean;
}

export function registerAttack(program: Command): void {
  const attack = program.command('attack').description('look up the MITRE ATT&CK knowledge base');
  attack
    .command('show')
    .description('a technique by ID or name (current or former, e.g. "Signed Binary Proxy Execution")')
    .argument('<query...>', 'technique ID (T1218, T1059.001) or name')
    .option('--json', 'print the technique as JSON')
    .action((words: string[], flags: JsonFlag) => {
      const index = openAttack(program.opts().content);
      const query = words.join(' ');
      const matches = index.resolveTechnique(query);
      if (matches.length === 0) throw unknown(index, query, 'technique');
      if (flags.json) {
        const out = matches.map((m) => ({
          ...techniqueJson(index, m.technique),
          matchedBy: m.via,
          asked: m.asked,
        }));
        process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
        return;
      }
      const blocks = matches.map(({ technique, via, asked }) => {
        const note =
          via === 'revoked-id'
            ? `${asked} was revoked; it is now ${technique.id}.`
            : via === 'former-name'
              ? `"${asked}" is a former name of ${technique.id}.`
              : undefined;
        return renderTechnique(index, technique, note);
      });
      if (matches.length > 1) {
        process.stdout.write(`${pc.yellow(`"${query}" names ${matches.length} techniques:`)}\n\n`);
      }
      process.stdout.write(`${blocks.join('\n\n')}\n`);
    });

  attack
    .command('search')
    .description('techniques whose name, former names or description mention every word given')
    .argument('<text...>', 'words to look for')
    .option('--limit <n>', 'at most this many results', '20')
    .option('--json', 'print the results as a JSON array')
    .action((words: string[], flags: JsonFlag & { limit: string }) => {
      const index = openAttack(program.opts().content);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new VigilError('USAGE', `--limit must be a whole number above 0, not '${flags.limit}'`);
      }
      const results = index.searchTechniques(words.join(' '), limit);
      if (flags.json) {
        const out = results.map(({ technique, score }) => ({
          id: technique.id,
          name: fullName(index, technique),
          tactics: technique.tactics,
          score,
        }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (results.length === 0) {
        process.stdout.write(`No technique mentions all of: ${words.join(' ')}\n`);
        return;
      }
      const rows = results.map(({ technique }) => [
        technique.id,
        fullName(index, technique),
        tacticNames(index, technique),
      ]);
      process.stdout.write(`${table(['ID', 'Technique', 'Tactics'], rows)}\n`);
    });

  attack
    .command('group')
    .description('an ATT&CK group by name, alias or ID (e.g. APT40) and the techniques it uses')
    .argument('<query...>', 'group name, alias (APT40) or ID (G0065)')
    .option('--json', 'print the group and its techniques as JSON')
    .action((words: string[], flags: JsonFlag) => {
      const index = openAttack(program.opts().content);
      const query = words.join(' ');
      const groups = index.groups(query);
      if (groups.length === 0) throw unknown(index, query, 'group');
      const out = groups.map((group) => ({
        id: group.id,
        name: group.name,
        aliases: group.aliases,
        revoked: group.revoked || undefined,
        revokedBy: group.revokedBy,
        techniques: group.techniques.map((use) => {
          const technique = index.technique(use.technique);
          return {
            id: use.technique,
            name: technique ? fullName(index, technique) : use.technique,
            tactics: technique?.tactics ?? [],
            how: use.description,
          };
        }),
        software: group.software.map((id) => ({ id, name: index.software(id)[0]?.name ?? id })),
      }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
        return;
      }
      const blocks = out.map((group) => {
        const lines = [heading(`${group.id} ${group.name}`)];
        if (group.aliases.length) lines.push(`  Aliases: ${group.aliases.join(', ')}`);
        if (group.revokedBy) lines.push(pc.yellow(`  Revoked: now ${group.revokedBy}`));
        lines.push(`  ${group.techniques.length} techniques, ${group.software.length} software`, '');
        lines.push(
          table(
            ['ID', 'Technique', 'Tactics'],
            group.techniques.map((t) => [
              t.id,
              t.name,
              t.tactics.map((s) => index.tactic(s)?.name ?? s).join(', '),
            ]),
          ),
        );
        if (group.software.length)
          lines.push('', `  Software: ${group.software.map((s) => `${s.name} (${s.id})`).join(', ')}`);
        return lines.join('\n');
      });
      process.stdout.write(`${blocks.join('\n\n')}\n`);
    });
}

function unknown(index: AttackIndex, query: string, what: string): VigilError {
  const hint =
    what !== 'technique'
      ? ' Names and aliases are those of the ATT&CK groups (intrusion sets).'
      : canonicalTechniqueId(query)
        ? ' It may belong to a newer release: vigil content update --only attack.'
        : ` Try: vigil attack search ${query}`;
  return new VigilError(
    'ATTACK_UNKNOWN',
    `ATT&CK ${index.version ? `v${index.version} ` : ''}has no ${what} "${query}" (nor one renamed or revoked from it).${hint}`,
  );
}

/** `Phishing: Spearphishing Attachment` for a sub-technique, as ATT&CK writes it. */
export function fullName(index: AttackIndex, technique: Technique): string {
  if (!technique.parent) return technique.name;
  const parent = index.technique(technique.parent);
  return parent ? `${parent.name}: ${technique.name}` : technique.name;
}

function tacticNames(index: AttackIndex, technique: Technique): string {
  return technique.tactics.map((s) => index.tactic(s)?.name ?? s).join(', ');
}

function techniqueJson(index: AttackIndex, technique: Technique) {
  return {
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

function renderTechnique(index: AttackIndex, technique: Technique, note: string | undefined): string {
  const data = techniqueJson(index, technique);
  const lines = [heading(`${technique.id} ${data.fullName}`)];
  if (note) lines.push(pc.yellow(`  ${note}`));
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
  if (technique.url) lines.push(`  ${pc.dim(technique.url)}`);
  const summary = firstParagraph(technique.description);
  if (summary) lines.push('', `  ${summary}`);
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
