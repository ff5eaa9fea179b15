/**
 * What each part of an advisory is: the account of the intrusion, advice to defenders, or text that
 * is about neither (an aside: the publisher's marketing, how to report an incident, references,
 * disclaimers, acknowledgements, revision notes). Asides are not evidence of anything the actors
 * did, and the links and mailboxes in them are not the actors'.
 *
 * Read from plain text, as every advisory arrives here (HTML and PDF are flattened to lines): a
 * section starts at a line that reads as a heading, and a heading is recognised by what it says
 * ("REFERENCES", "Mitigations", "Technical Details"). A section ends at the next recognised heading.
 * An aside also ends at an unknown heading written like its own (both in capitals, or both in title
 * case) with body text after it; a list of titles (a reference list) does not end it. Advice
 * sections have sub-headings of their own ("Identity and Access Management"), so only a recognised
 * heading ends them: read too far, advice only weighs less, while an aside read too far is lost.
 * A heading that introduces a list ("Actions to Take Today…:") covers that list only.
 */

export type SectionKind = 'account' | 'advice' | 'aside';

/** Why a line or sentence is an aside. */
export type AsideLabel =
  | 'references'
  | 'reporting'
  | 'about'
  | 'legal'
  | 'acknowledgements'
  | 'revisions'
  | 'marketing';

export interface LineRole {
  kind: SectionKind;
  label?: AsideLabel;
  /** The heading that opened the section, as written. */
  heading?: string;
}

export const ASIDE_TEXT: Record<AsideLabel, string> = {
  references: 'references',
  reporting: 'how to report an incident',
  about: 'about the publisher',
  legal: 'a disclaimer or legal notice',
  acknowledgements: 'acknowledgements',
  revisions: 'revision notes',
  marketing: "the publisher's marketing",
};

const ASIDE_HEADINGS: [AsideLabel, RegExp][] = [
  [
    'references',
    /^(?:references?|sources|endnotes|footnotes|bibliography|further reading|see also|works cited|citations|resources|(?:additional|related|other|more|useful) (?:resources|reading|information|links|articles|posts|content|research|reports?))$/,
  ],
  [
    'reporting',
    /^(?:contact(?: us| information| details)?|reporting(?: (?:an )?incidents?| suspicious activity)?|report(?:ing)? (?:an? )?(?:incident|compromise)s?|information requested|requested information|(?:how|where) to report\b.*|to report\b.*|feedback)$/,
  ],
  [
    'about',
    /^about (?:us|the authors?|the publisher|this (?:report|advisory|document|blog|series)|the (?:research|intelligence|threat intelligence) team|cisa|the fbi|fbi|nsa|unit ?42|mandiant|talos|crowdstrike|sophos(?: x-ops)?|the dfir report|palo alto networks|eset|kaspersky|secureworks|proofpoint|check point research|trend micro|symantec|recorded future|microsoft threat intelligence)$/,
  ],
  [
    'legal',
    /^(?:disclaimers?|legal(?: notice| disclaimer)?|terms(?: of use| and conditions)?|privacy(?: policy| notice)?|copyright\b.*|notification|licen[cs]e)$/,
  ],
  ['acknowledgements', /^(?:acknowledge?ments?|credits|contributors|(?:special )?thanks)$/],
  ['revisions', /^(?:revisions?|revision history|document history|version history|change ?log)$/],
  [
    'marketing',
    /^(?:get updates\b.*|sign up\b.*|subscribe\b.*|stay (?:informed|updated|up to date|connected)\b.*|newsletter|follow us\b.*|share(?: this)?(?: (?:article|post|blog|page))?|related (?:products|solutions|services)|(?:product )?protections?(?: and mitigations)?|courses? of action|talk to an expert|request a demo)$/,
  ],
];

const ADVICE_HEADING =
  /^(?:(?:recommended |suggested )?mitigations?(?: and (?:recommendations|detection|remediation))?|(?:detection and )?mitigations?|recommendations?|recommended (?:actions|mitigations)|actions to take\b.*|(?:defensive|protective) (?:measures|recommendations|actions)|remediation|prevention|hardening(?: guidance)?|best practices|guidance|(?:network )?defender guidance|what (?:you|organizations|defenders|network defenders) (?:should|can) do\b.*|how to (?:protect|defend|mitigate)\b.*|if (?:your organization|you) (?:is|are|have been) (?:impacted|compromised|a victim)\b.*)$/;

/**
 * Headings of the account itself: these end an aside or advice section. ATT&CK tactic names are
 * among them, as reports are often laid out by tactic.
 */
const ACCOUNT_HEADING =
  /^(?:(?:executive |case |technical )?summary|overview|introduction|background|technical (?:details|analysis|overview)|analysis|(?:key )?(?:findings|judg(?:e)?ments)|timeline|conclusions?|appendix\b.*|indicators?(?: of compromise)?\b.*|iocs?\b.*|(?:mitre )?att&ck\b.*|mitre\b.*|(?:tactics,? )?techniques\b.*|ttps\b.*|detections?\b.*|yara\b.*|sigma\b.*|snort\b.*|suricata\b.*|hunting\b.*|infrastructure\b.*|victimology|attribution|initial access|execution|persistence|privilege escalation|defen[cs]e evasion|credential access|discovery|lateral movement|collection|command and control|exfiltration|impact|reconnaissance|resource development)$/;

/** A whole line of the publisher's marketing, where it starts a block of it. */
const MARKETING_LINE = /^(?:get updates from\b|sign up (?:for|to)\b|subscribe (?:to|for)\b)/i;

/**
 * Sentences that are about the publisher or the reader, not the intrusion, wherever they stand:
 * marketing, how to report an incident, where to read more.
 */
const ASIDE_SENTENCES: [AsideLabel, RegExp][] = [
  [
    'marketing',
    /\b(?:we|our team) (?:offer|provide|sell)\b|\bour (?:threat feed|products?|solutions?|platform|customers|clients)\b|\bour\b[^.]{0,40}\bservices\b|\bcustomers (?:receive|get|are protected|are covered|benefit)\b|\bprotections? (?:to|for) (?:their|our) customers\b|\bhelps? (?:to )?(?:detect|prevent|protect|defend)\b[^.]*\b(?:in the following ways|through the following|with the following)\b|\b(?:sign up|subscribe) (?:to|for)\b|^get updates\b|\b(?:get in touch|contact us|call us)\b|\btoll[- ]free\b|\bincident response team is available\b|\b(?:has|have) shared these findings\b/i,
  ],
  [
    'reporting',
    /\breport (?:the |this |any |such |suspicious |these |ransomware |all |an? )?(?:incidents?|activity|compromises?|attacks?|findings|information|anomalous activity)\b[^.]*\bto\b|\b(?:local|nearest) (?:fbi )?field office\b|\bcontact (?:cisa|the fbi|your local|law enforcement)\b/i,
  ],
  [
    'references',
    /^(?:for (?:more|additional|further) (?:information|details|guidance)\b[^,]*,\s*)?(?:please )?(?:visit|see|refer to|download|read more)\b|\bfor (?:more|additional|further) information\b|\blearn more\b|\bdownload the pdf\b|\bfor a downloadable copy\b/i,
  ],
];

/** The role of each line of the text (split on line breaks). */
export function lineRoles(text: string): LineRole[] {
  const lines = text.split(/\r?\n/);
  const roles: LineRole[] = [];
  const account: LineRole = { kind: 'account' };
  let current: LineRole & { style?: Style; leadIn?: boolean } = account;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (current.leadIn && line !== '' && !isListItem(line) && !isShortLine(line)) current = account;
    if (isHeadingLike(line) && !isListItem(lines[i - 1]?.trim() ?? '', true)) {
      const heading = headingRole(line);
      if (heading) current = { ...heading, heading: line, style: styleOf(line), leadIn: isLeadIn(line) };
      else if (
        current.kind === 'aside' &&
        !current.leadIn &&
        current.style !== 'plain' &&
        styleOf(line) === current.style &&
        opensBody(lines, i)
      ) {
        current = account;
      }
    } else if (MARKETING_LINE.test(line)) {
      current = { kind: 'aside', label: 'marketing', heading: line, style: 'plain' };
    } else if (current.kind === 'account' && /:\s*$/.test(line) && asideSentence(line) !== undefined) {
      // "Palo Alto Networks helps detect and prevent … in the following ways:" and the list after it.
      current = { kind: 'aside', label: asideSentence(line), heading: line, style: 'plain', leadIn: true };
    }
    roles.push({ kind: current.kind, label: current.label, heading: current.heading });
  }
  return roles;
}

/** Why a sentence is an aside wherever it stands, if it is one. */
export function asideSentence(sentence: string): AsideLabel | undefined {
  for (const [label, pattern] of ASIDE_SENTENCES) if (pattern.test(sentence)) return label;
  return undefined;
}

/** Sentences of a line, split as the technique extractor splits them. */
export function sentencesOf(line: string): string[] {
  return line.split(/(?<=[.!?])\s+(?=[A-Z0-9("'\u201c])/);
}

/**
 * The text with its asides blanked (aside lines emptied, aside sentences replaced by spaces), line
 * for line, so that what is found in it is found in the account or the advice.
 */
export function withoutAsides(text: string, roles = lineRoles(text)): string {
  return text
    .split(/\r?\n/)
    .map((line, i) =>
      roles[i]?.kind === 'aside'
        ? ''
        : sentencesOf(line)
            .map((sentence) => (asideSentence(sentence.trim()) ? ' '.repeat(sentence.length) : sentence))
            .join(' '),
    )
    .join('\n');
}

type Style = 'caps' | 'title' | 'plain';

function headingRole(line: string): LineRole | undefined {
  const key = line
    .replace(/^#+\s*|^(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+/, '')
    .replace(/[:\s]+$/, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
  for (const [label, pattern] of ASIDE_HEADINGS) if (pattern.test(key)) return { kind: 'aside', label };
  if (ADVICE_HEADING.test(key)) return { kind: 'advice' };
  if (ACCOUNT_HEADING.test(key)) return { kind: 'account' };
  return undefined;
}

/**
 * Short, starting with a capital, without sentence punctuation at its end: how headings (and
 * titles in a list) look. A key of quoted data ("references:" in a Sigma rule) is not one.
 */
function isHeadingLike(line: string): boolean {
  if (line.length < 2 || line.length > 80 || !/^(?:#+\s*)?(?:[\dIVX.]+\s+)?\p{Lu}/u.test(line)) return false;
  if (/[.,;!?]$/.test(line) || isListItem(line)) return false;
  return line.split(/\s+/).length <= 10;
}

/** A heading that introduces a list ("Actions to Take Today to Mitigate …:"): its section is that list. */
function isLeadIn(line: string): boolean {
  return line.endsWith(':') && line.split(/\s+/).length >= 4;
}

/** A line of a list of short items ("Cortex XDR:", "WildFire: All known samples are identified as malware."). */
function isShortLine(line: string): boolean {
  return line.split(/\s+/).length <= 12;
}

/** A bulleted or numbered item; with `leadIn`, also a line that introduces a list (ends with ':'). */
function isListItem(line: string, leadIn = false): boolean {
  if (/^(?:[-•*\u2022\u25aa\u25cf\u25e6]\s|\d+[.)]\s)/.test(line)) return true;
  return leadIn && line.endsWith(':') && line.split(/\s+/).length > 10;
}

function styleOf(line: string): Style {
  const letters = line.replace(/[^\p{L}]/gu, '');
  if (letters.length >= 3 && letters === letters.toUpperCase()) return 'caps';
  const words = line.split(/\s+/).filter((w) => /^\p{L}{4,}/u.test(w));
  if (words.length && words.every((w) => /^\p{Lu}/u.test(w))) return 'title';
  return 'plain';
}

/** A heading opens body text: the next line with text is not itself heading-like. */
function opensBody(lines: string[], at: number): boolean {
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') return !isHeadingLike(line);
  }
  return false;
}
