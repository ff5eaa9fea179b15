import type { Command } from 'commander';
import pc from 'picocolors';
import { advisorySources, openAttack } from '../assess/index.js';
import { calendarDay, describeError, VigilError } from '../core/index.js';
import {
  type Advisory,
  analyzeAdvisory,
  DEFAULT_MIN_CONFIDENCE,
  readAdvisory,
  TechniqueExtractor,
} from '../intel/index.js';
import { fetchPolicy } from './fetch-policy.js';
import { printNotice } from './notices.js';
import { heading, printable, table, UsageError } from './terminal.js';

interface ParseFlags {
  format: string;
  minConfidence: string;
  date?: string;
  warninglists: boolean;
}

const FORMATS = ['table', 'json', 'md'];

export function registerAdvisory(program: Command): void {
  const advisory = program.command('advisory').description('read threat advisories and reports');
  advisory
    .command('parse')
    .description(
      'extract ATT&CK techniques (with evidence), indicators (refanged, with an actionability verdict), CVEs (with KEV status) and mitigations from advisories',
    )
    .argument('<inputs...>', 'text, HTML, PDF or STIX 2.1 files, http(s) URLs, or - for standard input')
    .addHelpText(
      'after',
      '\nA URL is downloaded only from a public address (64 MiB, 2 minutes, 5 redirects at most);' +
        '\nVIGIL_FETCH_ALLOW_HOSTS=HOSTS (names, *.domain, addresses, networks) lets it reach private ones.',
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .option(
      '--min-confidence <n>',
      'leave out techniques found with less confidence (0-1)',
      String(DEFAULT_MIN_CONFIDENCE),
    )
    .option('--date <YYYY-MM-DD>', "when the advisory's indicators were seen (default: the date it carries)")
    .option('--no-warninglists', 'do not check indicators against the MISP warning lists')
    .action(async (inputs: string[], flags: ParseFlags) => {
      if (!FORMATS.includes(flags.format)) {
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flags.format}'`);
      }
      const minConfidence = Number(flags.minConfidence);
      if (!(minConfidence >= 0 && minConfidence <= 1)) {
        throw new UsageError(`--min-confidence must be a number from 0 to 1, not '${flags.minConfidence}'`);
      }
      const observed = flags.date ? parseDate(flags.date) : undefined;
      const contentFlag = program.opts().content as string | undefined;
      const attack = openAttack(contentFlag);
      const extractor = new TechniqueExtractor(attack);
      const { warningLists, kev, binaries } = advisorySources(contentFlag, flags.warninglists, printNotice);

      const fetchOptions = fetchPolicy();
      const results: Advisory[] = [];
      let failed = 0;
      for (const input of inputs) {
        try {
          const document = await readAdvisory(input, { fetch: fetchOptions });
          results.push(
            analyzeAdvisory(document, {
              attack,
              extractor,
              warningLists,
              kev,
              binaries,
              observed,
              minConfidence,
            }),
          );
        } catch (error) {
          if (!(error instanceof VigilError)) throw error;
          failed++;
          process.stderr.write(`${pc.red('vigil: error:')} ${describeError(error)}\n`);
        }
      }
      if (flags.format === 'json') {
        const out = results.map(advisoryJson);
        if (out.length > 0 || inputs.length > 1) {
          process.stdout.write(`${JSON.stringify(inputs.length === 1 ? out[0] : out, null, 2)}\n`);
        }
      } else {
        const render = flags.format === 'md' ? renderMarkdown : renderTable;
        process.stdout.write(
          results.map((r) => render(r, warningLists !== undefined, kev !== undefined)).join('\n\n'),
        );
        if (results.length) process.stdout.write('\n');
      }
      if (failed > 0) process.exitCode = 1;
    });
}

function parseDate(text: string): Date {
  const day = calendarDay(text);
  if (day === undefined) throw new UsageError(`--date must be a date as YYYY-MM-DD, not '${text}'`);
  return new Date(day);
}

/** The JSON of one advisory: the fields the issue names first, then the extras. */
export function advisoryJson(advisory: Advisory) {
  return {
    source: advisory.source,
    title: advisory.title ?? null,
    kind: advisory.kind,
    published: advisory.published ?? null,
    attackVersion: advisory.attackVersion ?? null,
    actors: advisory.actors,
    techniques: advisory.techniques.map((t) => ({
      id: t.id,
      name: t.name,
      confidence: t.confidence,
      evidence: t.evidence,
      signals: t.signals,
      knownUse: t.knownUse ?? [],
      tools: t.tools ?? [],
    })),
    indicators: advisory.indicators.map((i) => ({
      type: i.type,
      value: i.value,
      actionable: i.actionable,
      confidence: i.confidence,
      reason: i.reason,
      score: i.score ?? null,
      context: i.context,
    })),
    tools: advisory.tools,
    cves: advisory.cves,
    mitigations: advisory.mitigations,
  };
}

function clip(text: string, length: number): string {
  const one = printable(text.replace(/\s+/g, ' ').trim());
  return one.length > length ? `${one.slice(0, length - 1)}…` : one;
}

/** What a lead stands on: not a sentence of the report, but ATT&CK's record of its subject. */
function knownUseText(t: Advisory['techniques'][number]): string {
  return t.knownUse?.length
    ? `(no sentence; ATT&CK records ${t.knownUse.map((u) => `${u.name} (${u.id})`).join(', ')} using it)`
    : '';
}

/** The ATT&CK software and groups named, the salient ones (what the advisory is about) first. */
function actorList(advisory: Advisory): string {
  const shown = advisory.actors
    .slice(0, 8)
    .map((a) => `${printable(a.name)} (${a.id}, ${a.mentions}x${a.subject ? ', subject' : ''})`);
  const more = advisory.actors.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

function renderTable(advisory: Advisory, checkedLists: boolean, checkedKev: boolean): string {
  const lines = [heading(printable(advisory.title ?? advisory.source))];
  lines.push(
    pc.dim(
      `  ${printable(advisory.source)} (${advisory.kind})${advisory.published ? `, dated ${advisory.published}` : ''}, ATT&CK v${advisory.attackVersion ?? '?'}`,
    ),
  );
  if (advisory.actors.length) lines.push('', `${pc.bold('Names')} ${actorList(advisory)}`);
  lines.push('', heading(`Techniques (${advisory.techniques.length})`));
  if (advisory.techniques.length) {
    lines.push(
      table(
        ['ID', 'Technique', 'Conf.', 'Found by', 'Evidence'],
        advisory.techniques.map((t) => [
          t.id,
          clip(t.name, 40),
          t.confidence.toFixed(2),
          t.signals.join(', '),
          clip(t.evidence[0] ?? knownUseText(t), 70),
        ]),
      ),
    );
  }
  const actionable = advisory.indicators.filter((i) => i.actionable).length;
  lines.push('', heading(`Indicators (${advisory.indicators.length}, ${actionable} actionable)`));
  if (!checkedLists)
    lines.push(pc.yellow('  MISP warning lists not found: known-good values are not flagged.'));
  if (advisory.indicators.length) {
    lines.push(
      table(
        ['Type', 'Value', 'Act?', 'Conf.', 'Why'],
        advisory.indicators.map((i) => [
          i.type,
          clip(i.value, 60),
          i.actionable ? pc.green('yes') : pc.red('no'),
          i.confidence,
          clip(i.reason, 70),
        ]),
      ),
    );
  }
  if (advisory.tools.length) {
    lines.push(
      '',
      heading(`Tools named (${advisory.tools.length}): Windows binaries, context for the techniques`),
    );
    lines.push(
      table(
        ['Binary', 'Known from', 'Techniques', 'Named in'],
        advisory.tools.map((t) => [
          printable(t.name),
          t.source === 'lolbas' ? 'LOLBAS' : 'Windows',
          t.techniques.join(' '),
          clip(t.context[0] ?? '', 60),
        ]),
      ),
    );
  }
  lines.push('', heading(`CVEs (${advisory.cves.length})`));
  if (!checkedKev && advisory.cves.length)
    lines.push(pc.yellow('  KEV catalogue not found: exploitation status unknown.'));
  if (advisory.cves.length) {
    lines.push(
      table(
        ['CVE', 'KEV', 'Added', 'Ransomware', 'Product'],
        advisory.cves.map((c) => [
          c.id,
          c.kev === null ? '?' : c.kev ? pc.red('yes') : 'no',
          c.kevDateAdded ?? '',
          c.knownRansomwareUse ? 'known' : '',
          clip(`${c.vendor ?? ''} ${c.product ?? ''}`, 40),
        ]),
      ),
    );
  }
  lines.push('', heading(`Mitigations (${advisory.mitigations.length})`));
  if (advisory.mitigations.length) {
    lines.push(
      table(
        ['ID', 'Mitigation', 'In advisory', 'Techniques'],
        advisory.mitigations.map((m) => [m.id, m.name, m.mentioned ? 'yes' : '', m.techniques.join(' ')]),
      ),
    );
  }
  return lines.join('\n');
}

/** Markdown cell text: one line, pipes and markup characters escaped. */
function cell(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\|*_`[\]<>]/g, (c) => `\\${c}`);
}

function renderMarkdown(advisory: Advisory): string {
  const lines = [`# ${cell(advisory.title ?? advisory.source)}`, ''];
  lines.push(
    `Source: ${cell(advisory.source)} (${advisory.kind})${advisory.published ? `, dated ${advisory.published}` : ''}`,
  );
  if (advisory.actors.length) lines.push('', `Names: ${cell(actorList(advisory))}`);
  lines.push(
    '',
    `## Techniques (${advisory.techniques.length})`,
    '',
    '| ID | Technique | Confidence | Evidence |',
    '| --- | --- | --- | --- |',
  );
  for (const t of advisory.techniques) {
    lines.push(
      `| ${t.id} | ${cell(t.name)} | ${t.confidence.toFixed(2)} | ${cell(t.evidence[0] ?? knownUseText(t))} |`,
    );
  }
  lines.push(
    '',
    `## Indicators (${advisory.indicators.length})`,
    '',
    '| Type | Value | Actionable | Confidence | Reason |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const i of advisory.indicators) {
    lines.push(
      `| ${i.type} | ${cell(i.value)} | ${i.actionable ? 'yes' : 'no'} | ${i.confidence} | ${cell(i.reason)} |`,
    );
  }
  if (advisory.tools.length) {
    lines.push(
      '',
      `## Tools named (${advisory.tools.length}): Windows binaries, context for the techniques`,
      '',
      '| Binary | Known from | Techniques | Named in |',
      '| --- | --- | --- | --- |',
    );
    for (const t of advisory.tools) {
      lines.push(
        `| ${cell(t.name)} | ${t.source === 'lolbas' ? 'LOLBAS' : 'Windows'} | ${t.techniques.join(', ')} | ${cell(t.context[0] ?? '')} |`,
      );
    }
  }
  lines.push(
    '',
    `## CVEs (${advisory.cves.length})`,
    '',
    '| CVE | In KEV | Added | Known ransomware use |',
    '| --- | --- | --- | --- |',
  );
  for (const c of advisory.cves) {
    lines.push(
      `| ${c.id} | ${c.kev === null ? 'unknown' : c.kev ? 'yes' : 'no'} | ${c.kevDateAdded ?? ''} | ${c.knownRansomwareUse ? 'yes' : ''} |`,
    );
  }
  lines.push(
    '',
    `## Mitigations (${advisory.mitigations.length})`,
    '',
    '| ID | Mitigation | Named in advisory | Techniques |',
    '| --- | --- | --- | --- |',
  );
  for (const m of advisory.mitigations) {
    lines.push(`| ${m.id} | ${cell(m.name)} | ${m.mentioned ? 'yes' : 'no'} | ${m.techniques.join(', ')} |`);
  }
  return lines.join('\n');
}
