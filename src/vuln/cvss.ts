import cvssCalculator from 'ae-cvss-calculator';

// A CommonJS package: its classes come through the default export under Node's ESM loader.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

export interface CvssFacts {
  version: '3.0' | '3.1' | '4.0';
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

/**
 * Reads a CVSS 3.0, 3.1 or 4.0 vector (scored by ae-cvss-calculator) and derives the SSVC decision
 * points CISA's guidance ties to it. Undefined for anything that is not a valid vector.
 */
export function cvssFacts(vector: string): CvssFacts | undefined {
  // Scans repeat a few thousand vectors over hundreds of thousands of findings.
  if (known.has(vector)) return known.get(vector);
  const facts = readVector(vector.trim());
  if (known.size > 100_000) known.clear();
  known.set(vector, facts);
  return facts;
}

const known = new Map<string, CvssFacts | undefined>();

function readVector(text: string): CvssFacts | undefined {
  const metrics = new Map(
    text
      .split('/')
      .slice(1)
      .map((part) => part.split(':') as [string, string]),
  );
  const is = (key: string, value: string) => metrics.get(key) === value;
  try {
    if (text.startsWith('CVSS:4.0/')) {
      const score = new Cvss4P0(text).calculateScores().base;
      return {
        version: '4.0',
        vector: text,
        score: Number(score),
        automatable: is('AV', 'N') && is('AC', 'L') && is('AT', 'N') && is('PR', 'N') && is('UI', 'N'),
        totalImpact: is('VC', 'H') && is('VI', 'H'),
        remoteCodeExecution: is('AV', 'N') && is('VC', 'H') && is('VI', 'H'),
        denialOfService: is('VA', 'H'),
      };
    }
    const version = text.startsWith('CVSS:3.1/') ? '3.1' : text.startsWith('CVSS:3.0/') ? '3.0' : undefined;
    if (!version) return undefined;
    const score = (version === '3.1' ? new Cvss3P1(text) : new Cvss3P0(text)).calculateScores().base;
    if (metrics.size < 8) return undefined;
    return {
      version,
      vector: text,
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
