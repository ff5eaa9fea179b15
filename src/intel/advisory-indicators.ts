import { type AttackIndex, compareIds } from '../attack/index.js';
import { judgeIndicator, registrableDomain, type Verdict } from './actionability.js';
import type { AdvisoryDocument } from './documents.js';
import { type ExtractedIndicator, extractIndicators, indicatorKey } from './indicators.js';
import { refang } from './refang.js';
import { type AsideLabel, asideSentence, lineRoles, sentencesOf, withoutAsides } from './sections.js';
import type { TechniqueExtractor, TechniqueFinding } from './techniques.js';
import { isStandardKey, type KnownBinary, WindowsBinaries } from './tools.js';
import type { WarningListIndex } from './warninglists.js';

/**
 * The indicators of an advisory, each with its verdict, and the Windows binaries it names, which
 * are set apart from them: what is not the actors' (the publisher's own addresses, what only
 * asides name, standard registry keys, values that identify nobody) is told from what is.
 */

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

export interface IndicatorContext {
  attack: AttackIndex;
  extractor: TechniqueExtractor;
  warningLists?: WarningListIndex;
  /** The Windows binaries to tell apart from indicators (Vigil's own list when not given). */
  binaries?: WindowsBinaries;
  /** Today, for the age of indicators. */
  now?: Date;
}

export function advisoryIndicators(
  document: AdvisoryDocument,
  context: IndicatorContext & {
    /** Indicators a STIX bundle states (patterns): judged, never taken for asides. */
    stated: ExtractedIndicator[];
    /** The advisory's techniques, which its binaries are tied to. */
    techniques: TechniqueFinding[];
    /** When its indicators were seen. */
    observed?: Date;
  },
): { indicators: IndicatorFinding[]; tools: ToolMention[] } {
  const { attack, observed } = context;
  const text = refang(document.text);
  const roles = lineRoles(text);
  const inAccount = new Set(extractIndicators(withoutAsides(text, roles)).map(indicatorKey));
  const publisherDomains = publishersOf(document, text, roles);
  const binaries = context.binaries ?? new WindowsBinaries();
  const dualUse = dualUseTools(attack);
  const stated = new Set(context.stated.map(indicatorKey));
  const extracted = [...context.stated, ...extractIndicators(document.text)];
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
    // A STIX pattern states an indicator; only the text can name one in passing.
    const aside =
      !stated.has(key) && !inAccount.has(key) ? asideWhere(text, roles, indicator.value) : undefined;
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
  return {
    indicators,
    tools: toolMentions([...tools.values()], text, context.techniques, context.extractor),
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
  extractor: TechniqueExtractor,
): ToolMention[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const byId = new Map(techniques.map((t) => [t.id, t]));
  return found.map(({ binary, written }) => {
    const name = written.toLowerCase();
    const naming = [...new Set(lines.filter((line) => line.toLowerCase().includes(name)))];
    const shown = new Set(
      extractor
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
