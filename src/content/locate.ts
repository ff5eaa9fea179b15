import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where Vigil finds third-party content (ATT&CK, Sigma rules, KEV, EPSS). In order: the
 * `--content DIR` flag, the `VIGIL_CONTENT_DIR` variable, the cache under `VIGIL_HOME`
 * (default `~/.vigil/content`), and a `shared/content` folder beside the checkout (how the
 * tests and CI find their reference copies). Nothing is ever looked up anywhere else.
 */
export interface ContentLocation {
  dir: string;
  /** Which rule found it, for messages. */
  via: 'flag' | 'env' | 'home' | 'shared';
}

export interface LocateOptions {
  flag?: string;
  env?: NodeJS.ProcessEnv;
}

/** The package root: two levels above this file in both `src/` and `dist/`. */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function vigilHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.VIGIL_HOME ? resolve(env.VIGIL_HOME) : join(homedir(), '.vigil');
}

export function candidateContentDirs(options: LocateOptions = {}): ContentLocation[] {
  const env = options.env ?? process.env;
  const out: ContentLocation[] = [];
  if (options.flag) out.push({ dir: resolve(options.flag), via: 'flag' });
  if (env.VIGIL_CONTENT_DIR) out.push({ dir: resolve(env.VIGIL_CONTENT_DIR), via: 'env' });
  out.push({ dir: join(vigilHome(env), 'content'), via: 'home' });
  out.push({ dir: resolve(PACKAGE_ROOT, '..', 'shared', 'content'), via: 'shared' });
  return out;
}

/**
 * The content folder to use. A folder named explicitly (flag or variable) must exist: pointing
 * at a missing folder is an error to report, not a reason to fall back silently.
 */
export function locateContent(options: LocateOptions = {}): ContentLocation | undefined {
  for (const candidate of candidateContentDirs(options)) {
    if (existsSync(candidate.dir)) return candidate;
    if (candidate.via === 'flag' || candidate.via === 'env') return undefined;
  }
  return undefined;
}

/** How to get content, for commands that need it and found none. */
export function contentHelp(options: LocateOptions = {}): string {
  const env = options.env ?? process.env;
  const named = options.flag ?? env.VIGIL_CONTENT_DIR;
  const lines = named
    ? [`The content folder ${resolve(named)} does not exist.`]
    : ['No content folder found. Looked in:', ...candidateContentDirs(options).map((c) => `  ${c.dir}`)];
  lines.push(
    'Get it with:  vigil content update          (downloads ATT&CK, Sigma rules, KEV, EPSS, MISP warning lists, SSVC tables, LOLBAS)',
    '         or:  vigil content update --from DIR   (copies a folder that holds attack/, sigma/, kev/ ...)',
    'or point Vigil at such a folder with --content DIR or VIGIL_CONTENT_DIR; rules can also be given with --rules PATH.',
  );
  return lines.join('\n');
}
