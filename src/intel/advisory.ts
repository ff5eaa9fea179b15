import { type AttackIndex, compareIds, normalizeName } from '../attack/index.js';
import type { KevCatalog } from '../content/index.js';
import { calendarDay } from '../core/index.js';
import {
  advisoryIndicators,
  type IndicatorContext,
  type IndicatorFinding,
  type ToolMention,
} from './advisory-indicators.js';
import type { AdvisoryDocument } from './documents.js';
import { indicatorKey } from './indicators.js';
import { stixStatements } from './stix-objects.js';
import type { ActorMention, TechniqueFinding } from './techniques.js';

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

export interface AdvisoryContext extends IndicatorContext {
  kev?: KevCatalog;
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
  const { indicators, tools } = advisoryIndicators(document, {
    ...context,
    stated: statements?.indicators ?? [],
    techniques,
    observed,
  });
  const seen = new Set(indicators.map(indicatorKey));
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
    tools,
    cves,
    mitigations: mitigationFindings(document.text, techniques, statements?.mitigations ?? [], attack),
  };
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
