import { type AttackIndex, compareIds, squashName, stem, type Technique, words } from '../attack/index.js';
import { AhoCorasick, setFor } from '../core/index.js';
import { asideSentence, lineRoles, sentencesOf, withoutAsides } from './sections.js';
import { contentStems, NeighbourIndex, stemTermCounts, termCounts } from './vectors.js';

/**
 * What found a technique: an explicit ID, a name (current or former), described behaviour, or
 * ATT&CK's record of the software or group the report is about using it.
 */
export type TechniqueSignal = 'id' | 'name' | 'behaviour' | 'known-use';

/** ATT&CK software, group or campaign named in a report. */
export interface ActorMention {
  id: string;
  name: string;
  kind: 'software' | 'group' | 'campaign';
  /** Times the report names it (by name or alias). */
  mentions: number;
  /** Named often enough, and often enough next to the others, to be what the report is about. */
  salient: boolean;
  /** The salient one named well ahead of all others: the report's subject (see extract). */
  subject: boolean;
}

export interface TechniqueFinding {
  id: string;
  name: string;
  /** 0..1: how sure Vigil is that the text describes this technique. */
  confidence: number;
  /** The sentences that show it, as written (at most a few); none for a lead (see knownUse). */
  evidence: string[];
  /** What found it: an explicit ID, a name (current or former), or described behaviour. */
  signals: TechniqueSignal[];
  /** The salient software or groups of the report that ATT&CK records using it. */
  knownUse?: { id: string; name: string }[];
  /** Windows binaries the report names doing it ("wmic.exe" for T1047): see Advisory.tools. */
  tools?: string[];
}

/**
 * Findings below this confidence are left out unless asked otherwise: the cut with the best F1
 * over the evaluation reports, the same for all of them (see scripts/eval-advisories.ts).
 */
export const DEFAULT_MIN_CONFIDENCE = 0.4;

export interface ExtractOptions {
  /** Findings below this confidence are left out (default DEFAULT_MIN_CONFIDENCE). */
  minConfidence?: number;
  /** The text's mentionedActors(), when the caller has them already. */
  actors?: ActorMention[];
  /** Below this cosine similarity a sentence is not taken as describing a technique (default 0.2). */
  minSimilarity?: number;
}

interface Sentence {
  text: string;
  stems: string[];
  /**
   * The text with table cells a PDF ran together taken apart ("DiscoveryPermission Group
   * Discovery", "ExecutionT1203"), when that changes it.
   */
  separated?: { text: string; stems: string[] };
  /** A recommendation to defenders ("Enable multifactor authentication…"), not an account of what attackers did. */
  advice: boolean;
  /**
   * Not about the intrusion (see sections.ts): marketing, how to report, references, revision
   * notes. Only an explicit technique ID counts there: the authors wrote it ("Added T1592.003").
   */
  aside: boolean;
}

interface Evidence {
  score: number;
  signal: TechniqueSignal;
  sentence: string;
}

/** Technique names and words matched in run-together scraped tables are at least this long. */
const MIN_SQUASHED_NAME = 14;
const MAX_EVIDENCE = 3;
/** At most this many sentences add up: more of the same faint hint is still a faint hint. */
const COMBINED_EVIDENCE = 3;

/**
 * Finds the ATT&CK techniques a report describes. Everything it knows comes from the loaded ATT&CK
 * release: technique IDs, current and former names, and, for behaviour described without a name,
 * the nearest neighbours of each sentence among ATT&CK's own sentences about each technique: the
 * procedure examples it records for groups, software and campaigns ("has used vssadmin to delete
 * shadow copies"), and the sentences of the technique's description.
 */
export class TechniqueExtractor {
  private readonly index: AttackIndex;
  private readonly techniques: Technique[];
  /** Technique ID -> its index in `techniques`. */
  private readonly position: Map<string, number>;
  private readonly neighbours: NeighbourIndex<number>;
  /** Name (as content stems joined by spaces) -> techniques bearing it. */
  private readonly names = new Map<string, Set<number>>();
  private readonly longestName: number;
  /** Tactic names as content stems: in a table row they stand beside technique names. */
  private readonly tacticNames: Set<string>;
  /**
   * Names that stopwords would reduce to one word ("Local Groups" to "local", "Adversary-in-the-
   * Middle" to "middle"): found only with all their words, as " stem stem " keys.
   */
  private readonly phraseNames: { key: string; technique: number }[] = [];
  /** How many techniques' profiles hold each name: a name common to many says little. */
  private readonly nameSpread = new Map<string, number>();
  private readonly squashedNames: { squashed: string; technique: number }[] = [];
  /** Software, groups and campaigns with the techniques ATT&CK records them using. */
  private readonly actors: (Pick<ActorMention, 'id' | 'name' | 'kind'> & { techniques: Set<number> })[] = [];
  /** Their names and aliases, found case-sensitively; pattern -> actor. */
  private readonly actorNames: AhoCorasick;
  private readonly actorOfName: number[] = [];
  private readonly actorPatterns: string[] = [];
  private readonly actorById = new Map<string, number>();
  private readonly actorNameLength: number[] = [];

  constructor(index: AttackIndex) {
    this.index = index;
    this.techniques = index.activeTechniques();
    const position = new Map(this.techniques.map((t, i) => [t.id, i]));
    this.position = position;
    const examples: { label: number; terms: Map<string, number> }[] = [];
    for (const owner of [
      ...index.knowledge.groups,
      ...index.knowledge.software,
      ...index.knowledge.campaigns,
    ]) {
      for (const use of owner.techniques) {
        const label = position.get(use.technique);
        if (use.description && label !== undefined) {
          examples.push({ label, terms: termCounts(cleanAttackText(use.description)) });
        }
      }
    }
    this.techniques.forEach((technique, label) => {
      examples.push({ label, terms: termCounts(`${technique.name}. ${technique.name}.`) });
      for (const sentence of cleanAttackText(technique.description).split(/(?<=[.!?])\s+/)) {
        if (sentence.length >= MIN_EXAMPLE_LENGTH) examples.push({ label, terms: termCounts(sentence) });
      }
    });
    this.neighbours = new NeighbourIndex(examples);
    const actorPatterns = this.actorPatterns;
    const kinds = [
      ['software', index.knowledge.software],
      ['group', index.knowledge.groups],
      ['campaign', index.knowledge.campaigns],
    ] as const;
    for (const [kind, owners] of kinds) {
      for (const owner of owners) {
        if (('deprecated' in owner && owner.deprecated) || ('revoked' in owner && owner.revoked)) continue;
        const techniques = new Set<number>();
        for (const use of owner.techniques) {
          const label = position.get(use.technique);
          if (label !== undefined) techniques.add(label);
        }
        if (techniques.size === 0) continue;
        const actor = this.actors.push({ id: owner.id, name: owner.name, kind, techniques }) - 1;
        this.actorById.set(owner.id, actor);
        for (const name of new Set([owner.name, ...owner.aliases])) {
          // Shorter names are words of the trade ("Net", "cmd", "at"), not the thing itself.
          if (name.length < MIN_ACTOR_NAME) continue;
          actorPatterns.push(name);
          this.actorOfName.push(actor);
          this.actorNameLength.push(name.length);
        }
      }
    }
    this.actorNames = new AhoCorasick(actorPatterns);
    let longest = 1;
    const allNames: { key: string; technique: number }[] = [];
    this.techniques.forEach((technique, i) => {
      for (const name of [technique.name, ...index.formerNames(technique.id)].map(withoutQualifier)) {
        const stems = contentStems(name);
        if (stems.length === 0 || (stems.length === 1 && GENERIC_WORDS.has(stems[0]!))) continue;
        const squashed = squashName(name);
        if (squashed.length >= MIN_SQUASHED_NAME) this.squashedNames.push({ squashed, technique: i });
        const all = words(name).map(stem);
        if (stems.length === 1 && all.length > 1) {
          this.phraseNames.push({ key: ` ${all.join(' ')} `, technique: i });
          continue;
        }
        const key = stems.join(' ');
        setFor(this.names, key).add(i);
        allNames.push({ key, technique: i });
        longest = Math.max(longest, stems.length);
      }
    });
    this.longestName = longest;
    this.tacticNames = new Set(index.tactics.map((tactic) => contentStems(tactic.name).join(' ')));
    // Revoked techniques' names lead to their replacements.
    for (const technique of index.knowledge.techniques) {
      if (!technique.revoked) continue;
      const target = position.get(index.followRevocation(technique).id);
      if (target === undefined) continue;
      const key = contentStems(withoutQualifier(technique.name)).join(' ');
      if (key.includes(' ') && !this.names.has(key)) this.names.set(key, new Set([target]));
    }
    // In one pass over the examples: which techniques' examples hold each name.
    const holders = new Map<string, Set<number>>(allNames.map(({ key }) => [key, new Set<number>()]));
    for (const example of examples) {
      for (const term of example.terms.keys()) holders.get(term)?.add(example.label);
    }
    for (const [key, labels] of holders) this.nameSpread.set(key, labels.size);
  }

  extract(text: string, options: ExtractOptions = {}): TechniqueFinding[] {
    const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
    const minSimilarity = options.minSimilarity ?? BEHAVIOUR_MIN_SIMILARITY;
    const evidence = new Map<number, Evidence[]>();
    const add = (technique: number, item: Evidence) => {
      const list = evidence.get(technique) ?? [];
      list.push(item);
      evidence.set(technique, list);
    };
    const { position } = this;
    const sentences = this.sentences(text);
    const adviceSentences = new Set(sentences.filter((s) => s.advice).map((s) => s.text));
    for (const sentence of sentences) {
      for (const match of (sentence.separated ?? sentence).text.matchAll(/\bT\d{4}(?:[./]\d{3})?\b/g)) {
        for (const { technique } of this.index.resolveTechnique(match[0])) {
          const i = position.get(technique.id);
          if (i !== undefined) add(i, { score: 1, signal: 'id', sentence: sentence.text });
        }
      }
      if (sentence.aside) continue;
      const votes = this.votes(sentence);
      for (const { technique, specific } of this.namesIn(sentence)) {
        // A specific name is enough; a common one ("Web Service", "PowerShell") counts fully only
        // where the sentence reads like that technique's examples.
        const share = votes?.shares.get(technique) ?? 0;
        const score = specific ? 0.9 : Math.min(0.85, 0.25 + 0.6 * share);
        add(technique, { score, signal: 'name', sentence: sentence.text });
      }
      if (votes && votes.top >= minSimilarity) {
        const [best, share] = [...votes.shares].sort((a, b) => b[1] - a[1])[0]!;
        add(best, {
          score: Math.min(0.85, votes.top * share),
          signal: 'behaviour',
          sentence: sentence.text,
        });
      }
    }

    // What defenders are told to do names techniques too; by itself it shows little.
    for (const items of evidence.values()) {
      for (const item of items)
        if (item.signal !== 'id' && adviceSentences.has(item.sentence)) item.score *= ADVICE_WEIGHT;
    }
    const actors = options.actors ?? this.mentionedActors(text);
    const salient = actors.filter((a) => a.salient);
    const subjects = actors.filter((a) => a.subject);
    const usersOf = (i: number) =>
      salient.filter((actor) => this.actors[this.actorIndex(actor)]!.techniques.has(i));
    for (const subject of subjects) {
      for (const i of this.actors[this.actorIndex(subject)]!.techniques)
        if (!evidence.has(i)) evidence.set(i, []);
    }
    const findings: TechniqueFinding[] = [];
    for (const [i, items] of evidence) {
      // Several independent sentences make a finding surer: noisy-OR of their scores.
      const bySentence = new Map<string, Evidence>();
      for (const item of items) {
        const previous = bySentence.get(item.sentence);
        if (!previous || previous.score < item.score) bySentence.set(item.sentence, item);
      }
      const ordered = [...bySentence.values()].sort((a, b) => b.score - a.score);
      let miss = 1;
      for (const item of ordered.slice(0, COMBINED_EVIDENCE)) miss *= 1 - item.score;
      // What the report is about makes what it says about that thing likelier; a technique the
      // subject is known for but the text never shows is a lead, not a finding of the text.
      const users = usersOf(i);
      if (users.length) miss *= 1 - KNOWN_USE_SUPPORT;
      if (users.some((user) => user.subject)) miss = Math.min(miss, 1 - KNOWN_USE_ALONE);
      if (items.length === 0 && users.length === 0) continue;
      const confidence = Math.round((1 - miss) * 100) / 100;
      if (confidence < minConfidence) continue;
      const technique = this.techniques[i]!;
      const signals = new Set(items.map((item) => item.signal));
      if (users.length) signals.add('known-use');
      const finding: TechniqueFinding = {
        id: technique.id,
        name: technique.name,
        confidence,
        evidence: ordered.slice(0, MAX_EVIDENCE).map((item) => item.sentence),
        signals: [...signals].sort((a, b) => SIGNAL_ORDER.indexOf(a) - SIGNAL_ORDER.indexOf(b)),
      };
      if (users.length) finding.knownUse = users.map(({ id, name }) => ({ id, name }));
      findings.push(finding);
    }
    return findings.sort((a, b) => b.confidence - a.confidence || compareIds(a.id, b.id));
  }

  /**
   * The ATT&CK software, groups and campaigns a text names, most named first. Names are matched
   * as written (case and all), as whole words ("Emotet", not "Emotetic"), and the longest name at
   * each place ("Emissary Panda", not "Emissary" in it); a name several of them bear counts for
   * each. The salient one named SUBJECT_LEAD times more than any other is the subject, with those
   * named at exactly the same places (a group and its malware of one name).
   */
  mentionedActors(fullText: string): ActorMention[] {
    const text = withoutAsides(fullText);
    const hits: { start: number; end: number; pattern: number }[] = [];
    this.actorNames.search(text, (pattern, end) => {
      const start = end - this.actorNameLength[pattern]!;
      if (WORD_CHAR.test(text[start - 1] ?? '') || WORD_CHAR.test(text[end] ?? '')) return;
      // The automaton may report a non-ASCII name where a look-alike stands: check.
      if (!text.startsWith(this.actorPatterns[pattern]!, start)) return;
      hits.push({ start, end, pattern });
    });
    hits.sort((a, b) => a.start - b.start || b.end - a.end);
    const places = new Map<number, Set<number>>();
    let reach = -1;
    let reachStart = -1;
    for (const hit of hits) {
      // Inside a longer name already taken: part of that name, not a mention of its own.
      if (hit.end <= reach && !(hit.start === reachStart && hit.end === reach)) continue;
      if (hit.end > reach) {
        reach = hit.end;
        reachStart = hit.start;
      }
      const actor = this.actorOfName[hit.pattern]!;
      setFor(places, actor).add(hit.start);
    }
    const mentions = [...places]
      .map(([actor, at]) => ({ actor: this.actors[actor]!, at, count: at.size }))
      .sort((a, b) => b.count - a.count || a.actor.id.localeCompare(b.actor.id));
    const total = mentions.reduce((sum, m) => sum + m.count, 0);
    const salient = (count: number) => count >= SALIENT_MENTIONS && count >= SALIENT_SHARE * total;
    const top = mentions[0];
    const samePlaces = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));
    const withTop = top ? mentions.filter((m) => samePlaces(m.at, top.at)) : [];
    const runnerUp = mentions.find((m) => !withTop.includes(m));
    const hasSubject =
      top !== undefined && salient(top.count) && (!runnerUp || top.count >= SUBJECT_LEAD * runnerUp.count);
    return mentions.map((m) => ({
      id: m.actor.id,
      name: m.actor.name,
      kind: m.actor.kind,
      mentions: m.count,
      salient: salient(m.count),
      subject: hasSubject && withTop.includes(m),
    }));
  }

  private actorIndex(mention: ActorMention): number {
    return this.actorById.get(mention.id)!;
  }

  /**
   * What the sentence's nearest ATT&CK sentences are about: each technique's share of the
   * similarity of the nearest few, and the similarity of the nearest one.
   */
  private votes(sentence: Sentence): { top: number; shares: Map<number, number> } | undefined {
    if (sentence.stems.length < MIN_SENTENCE_STEMS) return undefined;
    const nearest = this.neighbours.nearest(stemTermCounts(sentence.stems), NEIGHBOURS);
    if (nearest.length === 0) return undefined;
    const shares = new Map<number, number>();
    let total = 0;
    for (const { label, similarity } of nearest) {
      shares.set(label, (shares.get(label) ?? 0) + similarity);
      total += similarity;
    }
    for (const [label, sum] of shares) shares.set(label, sum / total);
    return { top: nearest[0]!.similarity, shares };
  }

  /** Technique names in a sentence, by content stems, and run together in scraped tables. */
  private namesIn(sentence: Sentence): { technique: number; specific: boolean }[] {
    const found = new Map<number, boolean>();
    this.namesInStems(sentence.stems, found);
    if (sentence.separated) this.namesInStems(sentence.separated.stems, found);
    const phrase = ` ${words((sentence.separated ?? sentence).text)
      .map(stem)
      .join(' ')} `;
    for (const { key, technique } of this.phraseNames) if (phrase.includes(key)) found.set(technique, true);
    const squashed = squashName(sentence.text);
    if (squashed.length >= MIN_SQUASHED_NAME) {
      for (const { squashed: name, technique } of this.squashedNames) {
        if (!found.has(technique) && squashed.includes(name)) found.set(technique, true);
      }
    }
    return [...found].map(([technique, specific]) => ({ technique, specific }));
  }

  private namesInStems(stems: string[], found: Map<number, boolean>): void {
    const here = new Map<number, boolean>();
    let covered = 0;
    for (let start = 0, end = 0; start < stems.length; start++) {
      for (let length = Math.min(this.longestName, stems.length - start); length >= 1; length--) {
        const key = stems.slice(start, start + length).join(' ');
        const techniques = this.names.get(key);
        if (!techniques && !this.tacticNames.has(key)) continue;
        covered += Math.max(0, start + length - Math.max(start, end));
        end = Math.max(end, start + length);
        if (!techniques) break;
        // A line that is nothing but the name (a table cell, a list item) names the technique.
        const wholeLine = length === stems.length;
        const specific =
          techniques.size === 1 &&
          (wholeLine || (length >= 2 && (this.nameSpread.get(key) ?? 0) <= NAME_SPREAD_SPECIFIC));
        for (const technique of techniques) here.set(technique, (here.get(technique) ?? false) || specific);
        break;
      }
    }
    // A line of names and nothing else (a table row: tactic, technique, sub-technique) names each.
    const row = covered === stems.length;
    for (const [technique, specific] of here)
      found.set(technique, (found.get(technique) ?? false) || specific || row);
  }

  /**
   * The sentences of the text, each marked as advice (an advice section's, or an instruction) or
   * as an aside (marketing, how to report, references, disclaimers: see sections.ts).
   */
  private sentences(text: string): Sentence[] {
    const out: Sentence[] = [];
    const lines = text.split(/\r?\n/);
    const roles = lineRoles(text);
    const machine = lines.map(machineText);
    for (const [i, line] of lines.entries()) {
      const role = roles[i]!;
      // A line that merely looks like a key ("impact: the actors encrypted…", a PowerShell
      // `$cmd = "…"` the attackers ran) is prose or evidence; only a block of them is quoted data.
      const quoted =
        machine[i] === 'signature' ||
        (machine[i] === 'key' && (machine[i - 1] !== undefined || machine[i + 1] !== undefined));
      if (quoted && !/\bT\d{4}\b/.test(line)) continue;
      for (const part of sentencesOf(line)) {
        const trimmed = part.trim();
        if (trimmed.length < 3) continue;
        const sentence: Sentence = {
          text: trimmed,
          stems: contentStems(trimmed),
          advice: role.kind === 'advice' || ADVICE.test(trimmed),
          aside: role.kind === 'aside' || asideSentence(trimmed) !== undefined,
        };
        const separated = separateRunTogether(trimmed);
        if (separated !== trimmed) sentence.separated = { text: separated, stems: contentStems(separated) };
        out.push(sentence);
      }
    }
    return out;
  }
}

/**
 * Cells of a table that a PDF's text layer ran together, taken apart: a lower-case letter (or a
 * closing bracket) followed by a capital starts a new name ("DiscoveryPermission" ->
 * "Discovery Permission"), a technique ID glued to a word is set apart ("ExecutionT1203",
 * "T1083Permission"). Names written with inner capitals ("PowerShell") are still matched in the
 * text as written.
 */
function separateRunTogether(text: string): string {
  return text
    .replace(/([\p{Ll})\]])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{L})(T\d{4}\b)/gu, '$1 $2')
    .replace(/(\bT\d{4}(?:\.\d{3})?)(\p{L})/gu, '$1 $2');
}

/**
 * "At (Windows)" was a name of T1053.002: the qualifier in brackets is not part of what a report
 * would write.
 */
function withoutQualifier(name: string): string {
  return name.replace(/\s*\([^)]*\)\s*/g, ' ').trim();
}

/**
 * One-word names that are ordinary words of the trade ("Malware", "Server", "Tool"): written in
 * a report, they name a thing, not the technique.
 */
const GENERIC_WORDS = new Set(
  [
    'Malware',
    'Server',
    'Tool',
    'Software',
    'Hardware',
    'Firmware',
    'Domains',
    'Credentials',
    'Exploits',
    'Vulnerabilities',
    'Botnet',
    'Serverless',
    'Databases',
    'Compression',
    'Trap',
    'At',
    'DLL',
    'CDNs',
  ].map((word) => stem(word)),
);

/** A sentence that opens (after any bullet) with an instruction to the reader. */
const ADVICE =
  /^(?:[-•*\u2022\u25aa\u25cf]\s*|\d+[.)]\s*)?(?:enable|disable|implement|ensure|require|use|install|monitor|review|restrict|limit|apply|keep|maintain|consider|prioriti[sz]e|update|patch|audit|remove|block|deploy|configure|enforce|segment|train|back ?up|store|identify|regularly|close|filter|prevent|avoid|do not|employ|establish|adopt|mandate|harden|investigate|verify|report|turn off|add|set|check|encrypt|protect|utili[sz]e)\b/i;

/**
 * Machine text that reports quote: JSON and YAML keys (a beacon's configuration, a Sigma rule),
 * YARA rules, Snort and Suricata signatures. What it names ("ssh": null, a YARA string) is not
 * something the attackers were seen doing. A signature line is one by itself; a key line only
 * next to another (see sentences).
 */
function machineText(line: string): 'signature' | 'key' | undefined {
  if (SIGNATURE_LINES.some((pattern) => pattern.test(line))) return 'signature';
  if (KEY_LINES.some((pattern) => pattern.test(line))) return 'key';
  return undefined;
}

const SIGNATURE_LINES = [
  /^\s*rule\s+\w+[^{]*\{\s*$/,
  /^\s*(?:alert|drop|reject|pass)\s+(?:tcp|udp|icmp|ip|http|dns|tls|smb|ftp|smtp)\s.*\(msg:/i,
];

/** A value as data writes it: a structure, a quoted string, a number, a literal, or a few words. */
const DATA_VALUE = String.raw`(?:\s*$|\s*[{\["'\d-]|\s*(?:true|false|null)\b|\s+\S+(?:\s+\S+){0,2}\s*$)`;
const KEY_LINES = [
  new RegExp(String.raw`^\s*"[^"]*"\s*:${DATA_VALUE}`),
  new RegExp(String.raw`^\s*-?\s*[a-z][\w.-]*:${DATA_VALUE}`),
  /^\s*-?\s*\w+\|[\w|]+:/,
  /^\s*\$\w*\s*=\s*["{/]/,
  /^\s*\w+\s*=\s*["\d]/,
  /^\s*[\]}],?\s*$/,
];

/** How much a finding from advice counts, next to one from an account of the attack. */
const ADVICE_WEIGHT = 0.3;

const SIGNAL_ORDER: TechniqueSignal[] = ['id', 'name', 'behaviour', 'known-use'];

/** Software and group names shorter than this are not looked for. */
const MIN_ACTOR_NAME = 4;
/** Letters and digits around a name make it part of another word; a hyphen does not ("TrickBot-infected"). */
const WORD_CHAR = /[\p{L}\p{N}_]/u;
/** An actor named at least this often, and in this share of all actor mentions, is salient. */
const SALIENT_MENTIONS = 3;
const SALIENT_SHARE = 0.2;
/** The salient actor named this many times more than any other is the report's subject. */
const SUBJECT_LEAD = 1.5;
/** How much a salient actor's known use of a technique adds to the text's own evidence of it. */
const KNOWN_USE_SUPPORT = 0.3;
/** Confidence in a technique the subject is known for that the text does not show. */
const KNOWN_USE_ALONE = 0.5;

/** A name held by at most this many techniques' profiles is specific to its technique. */
const NAME_SPREAD_SPECIFIC = 3;

/** Below this cosine similarity to its nearest ATT&CK sentence, a sentence describes nothing. */
const BEHAVIOUR_MIN_SIMILARITY = 0.2;
/** Neighbours that vote. */
const NEIGHBOURS = 5;
/** Sentences with fewer content words are headings or fragments. */
const MIN_SENTENCE_STEMS = 3;
/** Description sentences shorter than this are not examples of anything. */
const MIN_EXAMPLE_LENGTH = 20;

/** ATT&CK prose without its citations, and with links reduced to nothing: group and software
 * names in procedure examples say who, not what. */
function cleanAttackText(text: string): string {
  return text.replace(/\(Citation:[^)]*\)/g, ' ').replace(/\[[^\]]*\]\([^)]*\)/g, ' ');
}
