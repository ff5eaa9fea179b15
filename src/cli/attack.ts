import type { Command } from 'commander';
import pc from 'picocolors';
import { openAttack } from '../assess/index.js';
import { ATTACK_KINDS, type AttackEntry, type AttackIndex, type AttackKind } from '../attack/index.js';
import { VigilError } from '../core/index.js';
import { entryJson, entryTitle, groupJson, renderEntry, renderGroup, tacticNames } from './attack-render.js';
import { table, UsageError } from './terminal.js';

interface JsonFlag {
  json: boolean;
}

const KIND_NAMES = ATTACK_KINDS.join(', ');

export function registerAttack(program: Command): void {
  const attack = program.command('attack').description('look up the MITRE ATT&CK knowledge base');
  attack
    .command('show')
    .description(
      'any ATT&CK object by ID or name: technique (also by a former name, e.g. "Signed Binary Proxy Execution"), tactic, group, software, campaign (also by alias), mitigation, data component',
    )
    .argument('<query...>', 'an ID (T1218, TA0002, G0065, S1070, C0017, M1038, DC0032), a name or an alias')
    .option('--json', 'print the object as JSON (an array when the query names several)')
    .action((words: string[], flags: JsonFlag) => {
      const index = openAttack(program.opts().content);
      const query = words.join(' ');
      const entries = index.lookup(query);
      if (entries.length === 0) throw unknown(index, query);
      if (flags.json) {
        const out = entries.map((entry) => entryJson(index, entry));
        process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
        return;
      }
      if (entries.length > 1) {
        const kinds = [...new Set(entries.map((entry) => entry.kind))].join(', ');
        process.stdout.write(`${pc.yellow(`"${query}" names ${entries.length} objects (${kinds}):`)}\n\n`);
      }
      process.stdout.write(`${entries.map((entry) => renderEntry(index, entry)).join('\n\n')}\n`);
    });

  attack
    .command('search')
    .description(
      'ATT&CK objects (techniques, tactics, groups, software, campaigns, mitigations, data components) whose name, aliases, former names or description hold every word given',
    )
    .argument('<text...>', 'words to look for')
    .option('--kind <kinds>', `only these kinds, comma-separated (${KIND_NAMES})`)
    .option('--limit <n>', 'at most this many results', '20')
    .option('--json', 'print the results as a JSON array')
    .action((words: string[], flags: JsonFlag & { limit: string; kind?: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UsageError(`--limit must be a whole number above 0, not '${flags.limit}'`);
      }
      const kinds = flags.kind === undefined ? undefined : parseKinds(flags.kind);
      const index = openAttack(program.opts().content);
      const results = index.search(words.join(' '), { limit, kinds });
      if (flags.json) {
        const out = results.map(({ entry, id, score }) => ({
          kind: entry.kind,
          id,
          name: entryTitle(index, entry).name,
          ...(entry.kind === 'technique' ? { tactics: entry.match.technique.tactics } : {}),
          aliases: aliasesOf(entry),
          score,
        }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (results.length === 0) {
        process.stdout.write(
          `Nothing in ATT&CK ${index.version ? `v${index.version} ` : ''}mentions all of: ${words.join(' ')}\n`,
        );
        return;
      }
      const rows = results.map(({ entry, id }) => [
        id,
        entry.kind,
        entryTitle(index, entry).name,
        entry.kind === 'technique' ? tacticNames(index, entry.match.technique) : aliasesOf(entry).join(', '),
      ]);
      process.stdout.write(`${table(['ID', 'Kind', 'Name', 'Tactics / aliases'], rows)}\n`);
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
      if (flags.json) {
        const out = groups.map((group) => groupJson(index, group));
        process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${groups.map((group) => renderGroup(index, group)).join('\n\n')}\n`);
    });
}

function parseKinds(text: string): AttackKind[] {
  const kinds = text
    .split(',')
    .map((kind) => kind.trim().toLowerCase())
    .filter(Boolean);
  const unknownKinds = kinds.filter((kind) => !ATTACK_KINDS.includes(kind as AttackKind));
  if (kinds.length === 0 || unknownKinds.length)
    throw new UsageError(`--kind takes ${KIND_NAMES}; not '${unknownKinds.join(',') || text}'`);
  return kinds as AttackKind[];
}

function aliasesOf(entry: AttackEntry): string[] {
  switch (entry.kind) {
    case 'group':
      return entry.group.aliases;
    case 'software':
      return entry.software.aliases;
    case 'campaign':
      return entry.campaign.aliases;
    default:
      return [];
  }
}

/** The kind an ATT&CK ID names, by its prefix. */
const ID_KINDS: [RegExp, string][] = [
  [/^TA\d{4}$/i, 'tactic'],
  [/^T\d{4}([./]\d{3})?$/i, 'technique'],
  [/^G\d{4}$/i, 'group'],
  [/^S\d{4}$/i, 'software'],
  [/^C\d{4}$/i, 'campaign'],
  [/^M\d{4}$/i, 'mitigation'],
  [/^DC\d{4}$/i, 'data component'],
];

function unknown(index: AttackIndex, query: string, what?: 'group'): VigilError {
  const release = `ATT&CK ${index.version ? `v${index.version} ` : ''}`;
  if (what === 'group') {
    return new VigilError(
      'ATTACK_UNKNOWN',
      `${release}has no group "${query}". Names and aliases are those of the ATT&CK groups (intrusion sets); try: vigil attack show ${query}`,
    );
  }
  const idKind = ID_KINDS.find(([pattern]) => pattern.test(query.trim()))?.[1];
  if (idKind) {
    return new VigilError(
      'ATTACK_UNKNOWN',
      `${release}has no ${idKind} "${query}" (nor one renamed or revoked from it). It may belong to a newer release: vigil content update --only attack.`,
    );
  }
  return new VigilError(
    'ATTACK_UNKNOWN',
    `${release}has no technique, tactic, group, software, campaign, mitigation or data component "${query}" (nor one renamed or revoked from it). Try: vigil attack search ${query}`,
  );
}
