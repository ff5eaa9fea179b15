import { type AttackIndex, compareIds, normalizeName } from '../attack/index.js';
import type { KevCatalog } from '../content/index.js';
import { calendarDay } from '../core/index.js';
import { judgeIndicator, registrableDomain, type Verdict } from './actionability.js';
import type { AdvisoryDocument } from './documents.js';
import { type ExtractedIndicator, extractIndicators, indicatorKey } from './indicators.js';
import { refang } from './refang.js';
import { type AsideLabel, asideSentence, lineRoles, sentencesOf, withoutAsides } from './sections.js';
import { stixStatements } from './stix-objects.js';
import type { ActorMention, TechniqueExtractor, TechniqueFinding } from './techniques.js';
import { isStandardKey, type KnownBinary, WindowsBinaries } from './tools.js';
import type { WarningListIndex } from './warninglists.js';

export type IndicatorFinding = ExtractedIndicator & Verdict;

/**
 * A Windows binary the advisory names ("wmic.exe shadowcopy delete"): what the actors ran, kept
 * with the techniques it shows, not swept for as an indicator (every Windows host has it).
 */
export interface ToolMention {
  name: string;
  /** LOLBAS (a Microsoft binary attackers abuse) or Vigil's list of Windows system binaries. */
  source: KnownBinary['source'];
  description?: string;
  /** The advisory's techniques that the lines naming it show. */
  techniques: string[];
  /** Lines of the advisory that name it (a few). */
  context: string[];
}

export interface CveFinding {
  id: string;
  /** In CISA's KEV catalogue; null when no catalogue was available to ask. */
  kev: boolean | null;
  kevDateAdded?: string;
  kevDueDate?: string;
  knownRansomwareUse?: boolean;
  vendor?: string;
  product?: string;
  evidence: string[];
}

export interface MitigationFinding {
  id: string;
  name: string;
  /** Named in the advisory itself (by ID or name), not only inferred from its techniques. */
  mentioned: boolean;
  evidence: string[];
  /** The advisory's techniques this mitigation applies to, per ATT&CK. */
  techniques: string[];
}

export interface Advisory {
  source: string;
  kind: AdvisoryDocument['kind'];
  title?: string;
  /** The date the advisory carries (YYYY-MM-DD), when it has one. */
  published?: string;
  attackVersion?: string;
  /** ATT&CK software, groups and campaigns the advisory names, most named first. */
  actors: ActorMention[];
  techniques: TechniqueFinding[];
  indicators: IndicatorFinding[];
  /** Windows binaries it names: context for its techniques, not indicators. */
  tools: ToolMention[];
  cves: CveFinding[];
  mitigations: MitigationFinding[];
}

export interface AdvisoryContext {
  attack: AttackIndex;
  extractor: TechniqueExtractor;
  warningLists?: WarningListIndex;
  /** The Windows binaries to tell apart from indicators (Vigil's own list when not given). */
  binaries?: WindowsBinaries;
  kev?: KevCatalog;
  /** Today, for the age of indicators. */
  now?: Date;
  /** When the indicators were seen, if known better than the advisory's own date. */
  observed?: Date;
  minConfidence?: number;
}

/** Mitigations inferred from techniques alone, beyond those named: the few that cover most. */
const INFERRED_MITIGATIONS = 10;

export function analyzeAdvisory(document: AdvisoryDocument, context: AdvisoryContext): Advisory {
  const { attack } = context;
  const statements = document.stix ? stixStatements(document.stix) : undefined;
  const actors = context.extractor.mentionedActors(document.text);
  const techniques = context.extractor.extract(document.text, {
    minConfidence: context.minConfidence,
    actors,
  });
  if (statements) mergeStatedTechniques(techniques, statements.techniques, attack);

  const published = advisoryDate(document.text);
  const observed =
    context.observed ?? statements?.observed ?? (published ? new Date(`${published}T00:00:00Z`) : undefined);
  const text = refang(document.text);
  const roles = lineRoles(text);
  const inAccount = new Set(extractIndicators(withoutAsides(text, roles)).map(indicatorKey));
  const publisherDomains = publishersOf(document, text, roles);
  const binaries = context.binaries ?? new WindowsBinaries();
  const dualUse = dualUseTools(attack);
  const extracted = [...(statements?.indicators ?? []), ...extractIndicators(document.text)];
  const fromText = new Set(extracted.slice(statements?.indicators.length ?? 0).map(indicatorKey));
  const seen = new Set<string>();
  const indicators: IndicatorFinding[] = [];
  const tools = new Map<string, { binary: KnownBinary; written: string }>();
  for (const indicator of extracted) {
    const key = indicatorKey(indicator);
    if (seen.has(key)) continue;
    seen.add(key);
    const binary =
      indicator.type === 'filename'
        ? binaries.lookup(indicator.value)
        : indicator.type === 'path'
          ? binaries.atHome(indicator.value)
          : undefined;
    if (binary) {
      const written = indicator.type === 'path' ? indicator.value.split('\\').pop()! : indicator.value;
      if (!tools.has(written.toLowerCase())) tools.set(written.toLowerCase(), { binary, written });
      continue;
    }
    const aside =
      fromText.has(key) && !inAccount.has(key) && !statements?.indicators.some((i) => indicatorKey(i) === key)
        ? asideWhere(text, roles, indicator.value)
        : undefined;
    const verdict: Verdict =
      indicator.type === 'registry' && isStandardKey(indicator.value)
        ? {
            actionable: false,
            confidence: 'high',
            reason: 'a key every Windows host has: what the actors set in it is the indicator, not the key',
          }
        : judgeIndicator(indicator, {
            warningLists: context.warningLists,
            observed,
            now: context.now,
            publisherDomains,
            aside,
          });
    const tool = indicator.type === 'filename' ? dualUse.get(toolKey(indicator.value)) : undefined;
    if (tool && verdict.actionable) {
      verdict.confidence = verdict.confidence === 'low' ? 'low' : 'medium';
      verdict.reason = `a publicly available tool (ATT&CK ${tool.id} ${tool.name}) that administrators and testers run too; ${verdict.reason}`;
    }
    indicators.push({ ...indicator, ...verdict });
  }
  for (const cve of statements?.cves ?? []) {
    const key = indicatorKey({ type: 'cve', value: cve });
    if (!seen.has(key)) {
      seen.add(key);
      indicators.push({
        type: 'cve',
        value: cve,
        context: 'STIX vulnerability',
        actionable: true,
        confidence: 'high',
        reason: 'named vulnerability',
      });
    }
  }
  const cves = cveFindings(indicators, context.kev);
  // A CVE's verdict says what matters about it: whether it is known to be exploited.
  for (const indicator of indicators) {
    if (indicator.type !== 'cve') continue;
    const finding = cves.find((c) => c.id === indicator.value);
    if (finding?.kev) {
      indicator.reason = `in CISA KEV since ${finding.kevDateAdded}${finding.knownRansomwareUse ? ', used by ransomware' : ''}`;
    } else if (finding?.kev === false) indicator.reason = 'not in CISA KEV (no known exploitation listed)';
  }

  return {
    source: document.source,
    kind: document.kind,
    title: document.title,
    published,
    attackVersion: attack.version,
    actors,
    techniques,
    indicators,
    tools: toolMentions([...tools.values()], text, techniques, context),
    cves,
    mitigations: mitigationFindings(document.text, techniques, statements?.mitigations ?? [], attack),
  };
}

/**
 * Domains of government agencies that publish advisories, and of the references every advisory
 * cites (ATT&CK and CVE at MITRE, NVD, FIRST): never an actor's. The publisher of a given advisory
 * is also read from the advisory itself (see publishersOf).
 */
const ADVISORY_DOMAINS = [
  'cisa.gov',
  'us-cert.gov',
  'stopransomware.gov',
  'fbi.gov',
  'ic3.gov',
  'nsa.gov',
  'hhs.gov',
  'dhs.gov',
  'nist.gov',
  'ncsc.gov.uk',
  'cyber.gov.au',
  'cyber.gc.ca',
  'ncsc.govt.nz',
  'cert.govt.nz',
  'ssi.gouv.fr',
  'bsi.bund.de',
  'jpcert.or.jp',
  'europa.eu',
  'mitre.org',
  'first.org',
];

/** The mailbox an advisory asks reports to ("report@cisa.gov", "soc@…"), by its local part. */
const REPORTING_MAILBOX =
  /^(?:report|reports|reporting|central|soc|cert|csirt|incidents?|abuse|security|contact|info|cywatch|cyber|help|support|tips?|ncsc|ic3)\b/i;

/**
 * The registrable domains that are the advisory's own: the agencies and references above, the
 * site it was read from, and the domains of the mailboxes it asks reports to.
 */
function publishersOf(
  document: AdvisoryDocument,
  text: string,
  roles: ReturnType<typeof lineRoles>,
): Set<string> {
  const domains = new Set(ADVISORY_DOMAINS);
  const host = /^https?:\/\/([^/?#:]+)/i.exec(document.source)?.[1];
  const site = host ? registrableDomain(host.toLowerCase()) : undefined;
  if (site) domains.add(site);
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.includes('@')) return;
    const aside =
      roles[i]?.kind === 'aside' ? [line] : sentencesOf(line).filter((s) => asideSentence(s.trim()));
    for (const { type, value } of extractIndicators(aside.join('\n'))) {
      if (type !== 'email' || !REPORTING_MAILBOX.test(value)) continue;
      const domain = registrableDomain(value.slice(value.lastIndexOf('@') + 1));
      if (domain) domains.add(domain);
    }
  });
  return domains;
}

/** What kind of aside names a value first: its section's, or its sentence's. */
function asideWhere(
  text: string,
  roles: ReturnType<typeof lineRoles>,
  value: string,
): AsideLabel | undefined {
  const lower = value.toLowerCase();
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (!line.toLowerCase().includes(lower)) continue;
    if (roles[i]?.kind === 'aside') return roles[i]!.label;
    for (const sentence of sentencesOf(line)) {
      if (!sentence.toLowerCase().includes(lower)) continue;
      const label = asideSentence(sentence.trim());
      if (label) return label;
    }
  }
  return undefined;
}

/** ATT&CK's tools (software anyone can get: PsExec, AdFind, Rclone…), by the name a file would carry. */
const dualUseByIndex = new WeakMap<AttackIndex, Map<string, { id: string; name: string }>>();

function dualUseTools(attack: AttackIndex): Map<string, { id: string; name: string }> {
  let tools = dualUseByIndex.get(attack);
  if (!tools) {
    tools = new Map();
    for (const software of attack.knowledge.software) {
      if (software.type !== 'tool' || software.revoked || software.deprecated) continue;
      for (const name of [software.name, ...software.aliases]) {
        const key = toolKey(name);
        if (key.length >= 3 && !tools.has(key)) tools.set(key, { id: software.id, name: software.name });
      }
    }
    dualUseByIndex.set(attack, tools);
  }
  return tools;
}

/** A name as files carry it: "PsExec64.exe" and "PsExec" are one. */
function toolKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.[a-z0-9]{1,4}$/, '')
    .replace(/(?:32|64)$/, '')
    .replace(/[^a-z0-9]/g, '');
}

/** Lines naming a binary that tell what was done with it: at most this many are kept as context. */
const TOOL_CONTEXT = 3;
/**
 * How sure the lines naming a binary must be of a technique to tie the binary to it. Lower than
 * the cut for findings: the technique is one the advisory shows already, the lines need only point
 * at it ("bcdedit.exe /set {default} recoveryenabled no" alone is 0.39 sure of T1490).
 */
const TOOL_LINK_CONFIDENCE = 0.2;

/**
 * Each binary with the lines that name it and the advisory's techniques those lines show, and each
 * technique with the binaries that show it.
 */
function toolMentions(
  found: { binary: KnownBinary; written: string }[],
  text: string,
  techniques: TechniqueFinding[],
  context: AdvisoryContext,
): ToolMention[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const byId = new Map(techniques.map((t) => [t.id, t]));
  return found.map(({ binary, written }) => {
    const name = written.toLowerCase();
    const naming = [...new Set(lines.filter((line) => line.toLowerCase().includes(name)))];
    const shown = new Set(
      context.extractor
        .extract(naming.join('\n'), { minConfidence: TOOL_LINK_CONFIDENCE, actors: [] })
        .map((t) => t.id)
        .filter((id) => byId.has(id)),
    );
    for (const t of techniques) if (t.evidence.some((e) => e.toLowerCase().includes(name))) shown.add(t.id);
    const ids = [...shown].sort(compareIds);
    for (const id of ids) {
      const technique = byId.get(id)!;
      technique.tools = [...new Set([...(technique.tools ?? []), written])];
    }
    const mention: ToolMention = {
      name: written,
      source: binary.source,
      techniques: ids,
      context: naming.slice(0, TOOL_CONTEXT),
    };
    if (binary.description) mention.description = binary.description;
    return mention;
  });
}

function mergeStatedTechniques(
  findings: TechniqueFinding[],
  stated: { query: string; evidence: string }[],
  attack: AttackIndex,
): void {
  for (const { query, evidence } of stated) {
    for (const { technique } of attack.resolveTechnique(query)) {
      const existing = findings.find((f) => f.id === technique.id);
      if (existing) {
        existing.confidence = 1;
        existing.evidence.unshift(evidence);
        if (!existing.signals.includes('id')) existing.signals.unshift('id');
      } else {
        findings.push({
          id: technique.id,
          name: technique.name,
          confidence: 1,
          evidence: [evidence],
          signals: ['id'],
        });
      }
    }
  }
  findings.sort((a, b) => b.confidence - a.confidence || compareIds(a.id, b.id));
}

function cveFindings(indicators: IndicatorFinding[], kev: KevCatalog | undefined): CveFinding[] {
  const out: CveFinding[] = [];
  for (const indicator of indicators) {
    if (indicator.type !== 'cve') continue;
    const entry = kev?.entries.get(indicator.value);
    out.push({
      id: indicator.value,
      kev: kev ? entry !== undefined : null,
      kevDateAdded: entry?.dateAdded,
      kevDueDate: entry?.dueDate,
      knownRansomwareUse: entry ? entry.knownRansomwareCampaignUse === 'Known' : undefined,
      vendor: entry?.vendorProject,
      product: entry?.product,
      evidence: [indicator.context],
    });
  }
  return out;
}

function mitigationFindings(
  text: string,
  techniques: TechniqueFinding[],
  stated: { query: string; evidence: string }[],
  attack: AttackIndex,
): MitigationFinding[] {
  const found = new Map<string, MitigationFinding>();
  const techniqueIds = new Set(techniques.map((t) => t.id));
  const entry = (id: string): MitigationFinding | undefined => {
    const mitigation = attack.mitigation(id);
    if (!mitigation || mitigation.deprecated) return undefined;
    let finding = found.get(id);
    if (!finding) {
      finding = {
        id,
        name: mitigation.name,
        mentioned: false,
        evidence: [],
        techniques: mitigation.techniques.filter((t) => techniqueIds.has(t)),
      };
      found.set(id, finding);
    }
    return finding;
  };
  const mention = (id: string, evidence: string) => {
    const finding = entry(id);
    if (!finding) return;
    finding.mentioned = true;
    if (finding.evidence.length < 3 && !finding.evidence.includes(evidence)) finding.evidence.push(evidence);
  };
  for (const { query, evidence } of stated) {
    const byId = attack.mitigation(query);
    const byName = attack.knowledge.mitigations.find((m) => normalizeName(m.name) === normalizeName(query));
    const id = byId?.id ?? byName?.id;
    if (id) mention(id, evidence);
  }
  const lines = text.split(/\r?\n/);
  const names = attack.knowledge.mitigations
    .filter((m) => !m.deprecated && m.name.split(/\s+/).length >= 2)
    .map((m) => ({ id: m.id, key: ` ${normalizeName(m.name)} ` }));
  for (const line of lines) {
    for (const match of line.matchAll(/\bM1\d{3}\b/g)) mention(match[0], line.trim());
    const normalized = ` ${normalizeName(line)} `;
    for (const { id, key } of names) if (normalized.includes(key)) mention(id, line.trim());
  }
  // Mitigations the advisory does not name but ATT&CK gives for its techniques, most useful first.
  const coverage = new Map<string, number>();
  for (const technique of techniques) {
    for (const id of attack.technique(technique.id)?.mitigations ?? [])
      coverage.set(id, (coverage.get(id) ?? 0) + 1);
  }
  const inferred = [...coverage]
    .filter(([id, count]) => !found.has(id) && count >= 2)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, INFERRED_MITIGATIONS);
  for (const [id] of inferred) entry(id);
  return [...found.values()].sort(
    (a, b) =>
      Number(b.mentioned) - Number(a.mentioned) ||
      b.techniques.length - a.techniques.length ||
      a.id.localeCompare(b.id),
  );
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH =
  '(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?';

/**
 * The advisory's date: a labelled one near the top ("Release Date: March 17, 2021",
 * "Published 2022-11-17") first, else the first date in its opening text.
 */
export function advisoryDate(text: string): string | undefined {
  const head = text.slice(0, 4000);
  const label = /(?:release[sd]?|published|posted|issued|date|updated|revised)\s*(?:date|on)?\s*[:-]?\s*/i
    .source;
  const forms = [
    `${MONTH}\\s+(\\d{1,2}),?\\s+(\\d{4})`,
    `(\\d{1,2})\\s+${MONTH},?\\s+(\\d{4})`,
    '(\\d{4})-(\\d{2})-(\\d{2})',
  ];
  for (const withLabel of [true, false]) {
    let best: { at: number; date: string } | undefined;
    for (const [i, form] of forms.entries()) {
      const pattern = new RegExp(withLabel ? label + form : `\\b${form}`, 'i');
      const match = pattern.exec(head);
      if (!match) continue;
      const date = toIsoDate(i, match.slice(1));
      if (date && (!best || match.index < best.at)) best = { at: match.index, date };
    }
    if (best) return best.date;
  }
  return undefined;
}

function toIsoDate(form: number, parts: string[]): string | undefined {
  let year: number;
  let month: number;
  let day: number;
  if (form === 2) [year, month, day] = parts.map(Number) as [number, number, number];
  else {
    const [monthText, dayText, yearText] = form === 0 ? parts : [parts[1]!, parts[0]!, parts[2]!];
    month = MONTHS.findIndex((m) => m.startsWith(monthText!.toLowerCase().slice(0, 3))) + 1;
    day = Number(dayText);
    year = Number(yearText);
  }
  if (year < 1990 || year > 2100) return undefined;
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return calendarDay(date) === undefined ? undefined : date;
}
