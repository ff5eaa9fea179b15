import cvssCalculator from 'ae-cvss-calculator';

// A CommonJS package: its classes come through the default export under Node's ESM loader.
const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

export interface CvssFacts {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  /** The vector in its canonical spelling. */
  vector: string;
  score: number;
  /** SSVC Automatable: reachable over the network, low complexity, no privileges, no user action. */
  automatable: boolean;
  /** SSVC Technical Impact total: the attacker can both read and change what the system holds. */
  totalImpact: boolean;
  /** Code execution likely: network-reachable with high confidentiality and integrity impact. */
  remoteCodeExecution: boolean;
  /** Availability impact high: a denial of service. */
  denialOfService: boolean;
}

/** The base metrics each version requires, with the values each takes. */
const BASE_METRICS: Record<'2.0' | '3.x' | '4.0', Record<string, string>> = {
  '2.0': { AV: 'LAN', AC: 'HML', Au: 'MSN', C: 'NPC', I: 'NPC', A: 'NPC' },
  '3.x': { AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN' },
  '4.0': {
    AV: 'NALP',
    AC: 'LH',
    AT: 'NP',
    PR: 'NLH',
    UI: 'NPA',
    VC: 'HLN',
    VI: 'HLN',
    VA: 'HLN',
    SC: 'HLN',
    SI: 'HLN',
    SA: 'HLN',
  },
};

/**
 * Reads a CVSS 2.0, 3.0, 3.1 or 4.0 vector (scored by ae-cvss-calculator) and derives the SSVC
 * decision points CISA's guidance ties to it. Vectors are read whatever their case, and v2 as NVD
 * and scanners write it (`AV:N/…`, `(AV:N/…)`, `CVSS2#AV:N/…`, `CVSS:2.0/AV:N/…`). Undefined for
 * anything that is not a complete, valid base vector.
 */
export function cvssFacts(vector: string): CvssFacts | undefined {
  // Scans repeat a few thousand vectors over hundreds of thousands of findings.
  if (known.has(vector)) return known.get(vector);
  const facts = readVector(vector);
  if (known.size > 100_000) known.clear();
  known.set(vector, facts);
  return facts;
}

const known = new Map<string, CvssFacts | undefined>();

function readVector(text: string): CvssFacts | undefined {
  let body = text
    .trim()
    .toUpperCase()
    .replace(/^\((.*)\)$/, '$1');
  let version: CvssFacts['version'];
  const prefix = /^CVSS:(\d\.\d)\//.exec(body);
  if (prefix) {
    if (!['2.0', '3.0', '3.1', '4.0'].includes(prefix[1]!)) return undefined;
    version = prefix[1] as CvssFacts['version'];
    body = body.slice(prefix[0].length);
  } else if (body.startsWith('CVSS2#')) {
    version = '2.0';
    body = body.slice('CVSS2#'.length);
  } else version = '2.0';
  const metrics = new Map<string, string>();
  for (const part of body.split('/')) {
    const [key, value, extra] = part.split(':');
    // v2 spells Authentication "Au"; upper case elsewhere.
    const name = key === 'AU' ? 'Au' : key;
    if (!name || !value || extra !== undefined || metrics.has(name)) return undefined;
    metrics.set(name, value);
  }
  const required = BASE_METRICS[version === '2.0' ? '2.0' : version === '4.0' ? '4.0' : '3.x'];
  for (const [name, values] of Object.entries(required)) {
    const value = metrics.get(name);
    if (value?.length !== 1 || !values.includes(value)) return undefined;
  }
  const is = (key: string, value: string) => metrics.get(key) === value;
  const canonical =
    (version === '2.0' ? '' : `CVSS:${version}/`) + [...metrics].map(([k, v]) => `${k}:${v}`).join('/');
  try {
    if (version === '4.0') {
      return {
        version,
        vector: canonical,
        score: Number(new Cvss4P0(canonical).calculateScores().base),
        automatable: is('AV', 'N') && is('AC', 'L') && is('AT', 'N') && is('PR', 'N') && is('UI', 'N'),
        totalImpact: is('VC', 'H') && is('VI', 'H'),
        remoteCodeExecution: is('AV', 'N') && is('VC', 'H') && is('VI', 'H'),
        denialOfService: is('VA', 'H'),
      };
    }
    if (version === '2.0') {
      // v2 has no user-interaction metric and rates impact None, Partial, Complete.
      return {
        version,
        vector: canonical,
        score: Number(new Cvss2(canonical).calculateScores().base),
        automatable: is('AV', 'N') && is('AC', 'L') && is('Au', 'N'),
        totalImpact: is('C', 'C') && is('I', 'C'),
        remoteCodeExecution: is('AV', 'N') && is('C', 'C') && is('I', 'C'),
        denialOfService: is('A', 'C'),
      };
    }
    const score = (version === '3.1' ? new Cvss3P1(canonical) : new Cvss3P0(canonical)).calculateScores()
      .base;
    return {
      version,
      vector: canonical,
      score: Number(score),
      automatable: is('AV', 'N') && is('AC', 'L') && is('PR', 'N') && is('UI', 'N'),
      totalImpact: is('C', 'H') && is('I', 'H'),
      remoteCodeExecution: is('AV', 'N') && is('C', 'H') && is('I', 'H'),
      denialOfService: is('A', 'H'),
    };
  } catch {
    return undefined;
  }
}
