import type { AttackIndex } from '../attack/index.js';
import { type FetchOptions, VigilError } from '../core/index.js';
import { platformsNamedIn, readThreatLayer, type ThreatProfile } from '../coverage/index.js';
import { type Advisory, analyzeAdvisory, readAdvisory, TechniqueExtractor } from '../intel/index.js';
import { advisorySources } from './content-inputs.js';
import type { NoticeListener } from './notices.js';

/** Where the threat comes from: ATT&CK groups, advisories, Navigator layers (any mix, each repeatable). */
export interface ThreatOptions {
  /** ATT&CK groups by name, alias or ID; one that ATT&CK does not know is an error. */
  groups?: string[];
  /** Advisory files or URLs (text, HTML, PDF, STIX), read through advisory intake. */
  advisories?: string[];
  /** How advisories given as URLs are downloaded: limits and the hosts an admin allows. */
  fetch?: FetchOptions;
  /** ATT&CK Navigator layers. */
  layers?: string[];
}

export interface Threats {
  threats: ThreatProfile[];
  /** The advisories read, in the order given: their indicators and CVEs serve the hunt and exposure. */
  advisories: Advisory[];
}

/**
 * The threat profiles of the groups, advisories and layers. Techniques the loaded ATT&CK does not
 * know are told as a warning; coverage leaves them out of the scope.
 */
export async function loadThreats(
  attack: AttackIndex,
  options: ThreatOptions & { content?: string },
  tell: NoticeListener,
): Promise<Threats> {
  const threats: ThreatProfile[] = [];
  for (const name of options.groups ?? []) {
    const groups = attack.groups(name);
    if (groups.length === 0)
      throw new VigilError('ATTACK_UNKNOWN', `ATT&CK v${attack.version ?? '?'} has no group "${name}"`);
    for (const group of groups) {
      threats.push({
        name: `${group.name} (${group.id})`,
        kind: 'group',
        techniques: new Map(group.techniques.map((u) => [u.technique, u.description ? [u.description] : []])),
        platforms: softwarePlatforms(attack, group.software),
      });
    }
  }
  const advisories: Advisory[] = [];
  if (options.advisories?.length) {
    const extractor = new TechniqueExtractor(attack);
    const sources = advisorySources(options.content, true, tell);
    for (const file of options.advisories) {
      const document = await readAdvisory(file, { fetch: options.fetch });
      const advisory = analyzeAdvisory(document, { attack, extractor, ...sources });
      advisories.push(advisory);
      const about = advisory.actors.filter((a) => a.salient && a.kind === 'software').map((a) => a.id);
      threats.push({
        name: advisory.title ?? file,
        kind: 'advisory',
        techniques: new Map(advisory.techniques.map((t) => [t.id, t.evidence])),
        platforms: [...new Set([...platformsNamedIn(document.text), ...softwarePlatforms(attack, about)])],
      });
    }
  }
  for (const file of options.layers ?? []) threats.push(readThreatLayer(file));
  for (const threat of threats) {
    const unknown = [...threat.techniques.keys()].filter((id) => attack.resolveTechnique(id).length === 0);
    if (unknown.length === 0) continue;
    const message = `${threat.name}: ATT&CK v${attack.version ?? '?'} does not know ${unknown.join(', ')}; left out of the scope`;
    tell({
      severity: 'warning',
      input: 'threat',
      problems: [new VigilError('ATTACK_UNKNOWN_TECHNIQUE', message)],
    });
  }
  return { threats, advisories };
}

/** The ATT&CK platforms of the software (by ID) a threat uses. */
function softwarePlatforms(attack: AttackIndex, software: string[]): string[] {
  return [...new Set(software.flatMap((id) => attack.software(id)[0]?.platforms ?? []))];
}
