import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AttackIndex, attackSourceIn, loadAttack } from '../attack/index.js';
import {
  CONTENT_SOURCES,
  contentHelp,
  epssFile,
  type KevCatalog,
  locateContent,
  readEpss,
  readKevCatalog,
  readSsvcTables,
  sourcePresent,
  vigilHome,
} from '../content/index.js';
import { VigilError } from '../core/index.js';
import { readWarningLists, WarningListIndex, WindowsBinaries } from '../intel/index.js';
import { VIGIL_RULES_DIR } from '../sigma/index.js';
import type { AssetIndex, PrioritizeOptions } from '../vuln/index.js';
import type { NoticeListener } from './notices.js';

/**
 * Where the workflows find their inputs in the content folder. `content` is the folder a user
 * named (else `VIGIL_CONTENT_DIR` or the default places, see `locateContent`).
 */

/** The SigmaHQ packs that stand for the deployed rules when none are given. */
const DEFAULT_RULE_FOLDERS = ['rules', 'rules-emerging-threats'];

/** The SigmaHQ packs that stand for "public rules" when no reference rules are given. */
const REFERENCE_FOLDERS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'];

/** Where compiled rules and the ATT&CK index are cached when the caller names no folder. */
export function defaultCache(): string {
  return join(vigilHome(), 'cache');
}

/** The ATT&CK index from the content folder, or an error that says how to get one. */
export function openAttack(content: string | undefined, cache = defaultCache()): AttackIndex {
  const located = locateContent({ flag: content });
  if (!located)
    throw new VigilError('ATTACK_MISSING', `no ATT&CK content.\n${contentHelp({ flag: content })}`);
  const attackDir = join(located.dir, 'attack');
  if (!existsSync(join(attackDir, 'enterprise-attack.json'))) {
    throw new VigilError(
      'ATTACK_MISSING',
      `no ATT&CK content: ${attackDir} has no enterprise-attack.json.\nGet it with: vigil content update --only attack`,
    );
  }
  return loadAttack(attackSourceIn(attackDir, cache));
}

/**
 * The rules a command given none runs: the SigmaHQ packs of the content folder, and Vigil's own
 * packs shipped with it.
 */
export function defaultRulePaths(content: string | undefined): string[] {
  const located = locateContent({ flag: content });
  if (!located)
    throw new VigilError(
      'CONTENT_MISSING',
      `no rules given and no content to take them from.\n${contentHelp({ flag: content })}`,
    );
  const paths = DEFAULT_RULE_FOLDERS.map((folder) => join(located.dir, 'sigma', folder)).filter((p) =>
    existsSync(p),
  );
  if (paths.length === 0) {
    throw new VigilError(
      'CONTENT_MISSING',
      `the content folder ${located.dir} has no sigma/rules; give rules with --rules PATH.`,
    );
  }
  return [...paths, VIGIL_RULES_DIR];
}

/** The public rule packs of the content folder that are there (none without content). */
export function defaultReferencePaths(content: string | undefined): string[] {
  const located = locateContent({ flag: content });
  if (!located) return [];
  return REFERENCE_FOLDERS.map((folder) => join(located.dir, 'sigma', folder)).filter((path) =>
    existsSync(path),
  );
}

/**
 * What judging indicators and CVEs takes from the content folder, each only when present: the MISP
 * warning lists, the KEV catalogue (its malformed entries told, the rest used) and LOLBAS
 * (Vigil's own list of Windows binaries without it).
 */
export function advisorySources(
  content: string | undefined,
  withWarningLists: boolean,
  tell: NoticeListener,
): { warningLists?: WarningListIndex; kev?: KevCatalog; binaries: WindowsBinaries } {
  const located = locateContent({ flag: content });
  if (!located) return { binaries: new WindowsBinaries() };
  const kevFile = join(located.dir, CONTENT_SOURCES.kev.folder, CONTENT_SOURCES.kev.fileName!);
  const kev = existsSync(kevFile) ? readKevCatalog(kevFile) : undefined;
  if (kev) tell({ severity: 'warning', input: 'kev', problems: kev.problems });
  const lolbas = join(located.dir, 'lolbas');
  return {
    warningLists: withWarningLists ? warningListsIn(located.dir, tell) : undefined,
    kev,
    binaries: new WindowsBinaries(existsSync(lolbas) ? lolbas : undefined, (problem) =>
      tell({ severity: 'warning', input: 'lolbas', problems: [problem] }),
    ),
  };
}

/** The MISP warning lists of a content folder (the one located from `content`), when it has them. */
export function warningListsFrom(
  content: string | undefined,
  tell: NoticeListener,
): WarningListIndex | undefined {
  const located = locateContent({ flag: content });
  return located ? warningListsIn(located.dir, tell) : undefined;
}

function warningListsIn(dir: string, tell: NoticeListener): WarningListIndex | undefined {
  const lists = join(dir, 'warninglists');
  if (!existsSync(lists)) return undefined;
  return new WarningListIndex(
    readWarningLists(lists, (problem) =>
      tell({ severity: 'warning', input: 'warning-lists', problems: [problem] }),
    ),
  );
}

/** The decision tables, KEV and EPSS from the content folder, with the assets and the advisory's CVEs. */
export function prioritizeOptions(
  content: string | undefined,
  assets: AssetIndex | undefined,
  epssThreshold: number,
  advisoryCves: Set<string> | undefined,
  tell: NoticeListener,
): PrioritizeOptions {
  const located = locateContent({ flag: content });
  if (!located || !sourcePresent(located.dir, 'ssvc')) {
    throw new VigilError(
      'SSVC_MISSING',
      'no SSVC decision tables. Get them with: vigil content update --only ssvc',
    );
  }
  const epss = epssFile(join(located.dir, 'epss'));
  return {
    ...readSsvcTables(join(located.dir, 'ssvc')),
    kev: advisorySources(content, false, tell).kev,
    epss: epss ? readEpss(epss) : undefined,
    assets,
    epssThreshold,
    advisoryCves,
  };
}
