import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { unzipSync } from 'fflate';
import {
  attackSourceIn,
  buildNameHistory,
  cacheKnowledge,
  HISTORY_RELEASES,
  readStixBundle,
} from '../attack/index.js';
import { describeError, type FetchLimits, type FetchOptions, safeFetch, VigilError } from '../core/index.js';
import { epssFile } from './epss.js';
import {
  attackReleaseUrl,
  CONTENT_SOURCES,
  type ContentSource,
  type SourceName,
  sourceUrl,
} from './sources.js';
import { type Verified, verifySource } from './verify.js';

export interface ProgressEvent {
  source: SourceName;
  phase: 'download' | 'unpack' | 'verify' | 'history' | 'done' | 'failed';
  /** Bytes so far and in all, while downloading (total 0 when the server does not say). */
  received?: number;
  total?: number;
  /** What is being fetched, for messages. */
  what?: string;
}

export interface UpdateOptions {
  /** `VIGIL_HOME`: content goes to `<home>/content`, downloads kept for later in `<home>/cache`. */
  home: string;
  only?: SourceName[];
  /** Copy from this folder (laid out like a content folder) instead of downloading. */
  from?: string;
  /** Base address of a mirror serving each source under its `mirrorPath`. */
  mirror?: string;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * How each download goes (see safeFetch): limits over CONTENT_FETCH_LIMITS, the hosts an admin
   * allows. The official sources must be on public addresses; a mirror may be on any but a cloud
   * metadata service's, being the user's explicit choice.
   */
  fetch?: Omit<FetchOptions, 'allowPrivate' | 'onProgress'>;
}

/** Content is larger than advisories (ATT&CK is a 50 MB bundle) and may come over slow links. */
const CONTENT_FETCH_LIMITS: FetchLimits = {
  maxBytes: 512 * 1024 ** 2,
  timeoutMs: 600_000,
  idleTimeoutMs: 60_000,
  maxRedirects: 5,
};

export interface UpdateResult {
  source: SourceName;
  ok: boolean;
  version?: string;
  summary?: string;
  /** Why it failed; the copy from before (if any) is still in place. */
  error?: string;
  warnings: string[];
}

export interface ManifestEntry {
  /** Where it came from: an address or a folder. */
  origin: string;
  version?: string;
  /** ISO time it was installed. */
  updated: string;
  summary: string;
}

export type Manifest = Partial<Record<SourceName, ManifestEntry>>;

export function contentDirIn(home: string): string {
  return join(home, 'content');
}

export function readManifest(contentDir: string): Manifest {
  const file = join(contentDir, 'manifest.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

/**
 * Fetches each source, verifies what arrived (parsed and counted), and only then puts it in place
 * of the previous copy: a failed download or a file that does not check out leaves the old copy
 * untouched. Records origin, version and time in `manifest.json`.
 */
export async function updateContent(options: UpdateOptions): Promise<UpdateResult[]> {
  const contentDir = contentDirIn(options.home);
  mkdirSync(contentDir, { recursive: true });
  const results: UpdateResult[] = [];
  for (const name of options.only ?? (Object.keys(CONTENT_SOURCES) as SourceName[])) {
    const source = CONTENT_SOURCES[name];
    const staging = join(contentDir, `.staging-${name}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const warnings: string[] = [];
    try {
      const origin = options.from
        ? copyFrom(source, options.from, staging)
        : await download(source, staging, options);
      if (name === 'attack') await attachHistory(staging, contentDir, options, warnings);
      options.onProgress?.({ source: name, phase: 'verify' });
      const verified: Verified = verifySource(name, staging);
      const target = join(contentDir, source.folder);
      const previous = `${target}.previous-${process.pid}`;
      if (existsSync(target)) renameSync(target, previous);
      renameSync(staging, target);
      rmSync(previous, { recursive: true, force: true });
      // The index built to verify ATT&CK is kept: the first command that needs it does not wait.
      if (verified.knowledge)
        cacheKnowledge(attackSourceIn(target, join(options.home, 'cache')), verified.knowledge);
      const manifest = readManifest(contentDir);
      manifest[name] = {
        origin,
        version: verified.version,
        updated: new Date().toISOString(),
        summary: verified.summary,
      };
      writeFileSync(join(contentDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      options.onProgress?.({ source: name, phase: 'done' });
      results.push({
        source: name,
        ok: true,
        version: verified.version,
        summary: verified.summary,
        warnings,
      });
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      options.onProgress?.({ source: name, phase: 'failed' });
      results.push({ source: name, ok: false, error: describeError(error), warnings });
    }
  }
  return results;
}

/** Copies a source's files from a folder laid out like a content folder. */
function copyFrom(source: ContentSource, from: string, staging: string): string {
  const folder = join(from, source.folder);
  if (!existsSync(folder)) {
    throw new VigilError('CONTENT_MISSING', `${source.name}: ${folder} does not exist`, { file: folder });
  }
  switch (source.name) {
    case 'attack':
      for (const file of [CONTENT_SOURCES.attack.fileName!, 'technique-name-history.json']) {
        if (existsSync(join(folder, file))) cpSync(join(folder, file), join(staging, file));
      }
      break;
    case 'epss': {
      const file = epssFile(folder);
      if (!file)
        throw new VigilError('CONTENT_MISSING', `epss: no epss_scores-*.csv.gz in ${folder}`, {
          file: folder,
        });
      cpSync(file, join(staging, file.slice(dirname(file).length + 1)));
      break;
    }
    case 'warninglists':
      cpSync(join(folder, 'lists'), join(staging, 'lists'), { recursive: true });
      break;
    case 'ssvc':
      for (const name of source.files ?? []) {
        if (!existsSync(join(folder, name)))
          throw new VigilError('CONTENT_MISSING', `ssvc: no ${name} in ${folder}`, { file: folder });
        cpSync(join(folder, name), join(staging, name));
      }
      break;
    default:
      cpSync(folder, staging, { recursive: true });
  }
  return folder;
}

async function download(source: ContentSource, staging: string, options: UpdateOptions): Promise<string> {
  const url = sourceUrl(source, options.mirror);
  if (source.format === 'files') {
    for (const name of source.files ?? []) {
      const { bytes } = await fetchBytes(`${url}${name}`, source.name, options);
      writeFileSync(join(staging, name), bytes);
    }
    return url;
  }
  const { bytes, finalUrl } = await fetchBytes(url, source.name, options);
  if (source.format === 'file') {
    writeFileSync(join(staging, source.fileName!), bytes);
    return url;
  }
  options.onProgress?.({ source: source.name, phase: 'unpack' });
  unpack(source, bytes, staging);
  // A release download is redirected to its tagged address (…/download/r2025-11-01/…): that is its version.
  const tag = /\/download\/([^/]+)\//.exec(finalUrl)?.[1];
  if (tag && source.name === 'sigma') writeFileSync(join(staging, 'VERSION'), `${tag}\n`);
  return url;
}

/**
 * Unpacks the parts of an archive that matter: the `rules*` folders of a Sigma release, the
 * `lists/` of the warning lists, the `yml/` entries of LOLBAS and its licence. A common top folder
 * (`misp-warninglists-main/`) is dropped, and no entry may write outside the staging folder.
 */
function unpack(source: ContentSource, bytes: Uint8Array, staging: string): void {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new VigilError('CONTENT_INVALID', `${source.name}: not a zip archive: ${(error as Error).message}`);
  }
  const names = Object.keys(entries).filter((n) => !n.endsWith('/'));
  const tops = new Set(names.map((n) => n.split('/')[0]));
  const strip =
    tops.size === 1 && !names.every((n) => !n.includes('/')) && ![...tops][0]!.startsWith('rules');
  for (const name of names) {
    const path = strip ? name.slice(name.indexOf('/') + 1) : name;
    const keep =
      source.name === 'sigma'
        ? /^rules[^/]*\/.*\.ya?ml$/i.test(path)
        : source.name === 'lolbas'
          ? /^(?:yml\/.+\.ya?ml|LICENSE)$/i.test(path)
          : /^lists\/[^/]+\/list\.json$/.test(path);
    if (!keep) continue;
    const target = join(staging, path);
    if (relative(staging, target).startsWith(`..${sep}`) || relative(staging, target).startsWith('..'))
      continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entries[name]!);
  }
}

/**
 * The name history: copied along when the source folder has one; otherwise built from MITRE's
 * versioned bundles, each downloaded once and kept in the cache. Without it ATT&CK still works,
 * only former names are not known: that is a warning, not a failure.
 */
async function attachHistory(
  staging: string,
  contentDir: string,
  options: UpdateOptions,
  warnings: string[],
): Promise<void> {
  if (existsSync(join(staging, 'technique-name-history.json'))) return;
  const releasesDir = join(options.home, 'cache', 'attack-releases');
  const fromDir = options.from ? join(options.from, 'attack', 'releases') : undefined;
  mkdirSync(releasesDir, { recursive: true });
  try {
    const releases = [];
    for (const version of HISTORY_RELEASES) {
      const cached = join(releasesDir, `enterprise-attack-${version}.json`);
      if (!existsSync(cached)) {
        const local = fromDir ? join(fromDir, `enterprise-attack-${version}.json`) : undefined;
        if (local && existsSync(local)) cpSync(local, cached);
        else if (options.from)
          throw new VigilError(
            'CONTENT_MISSING',
            `no ${local ?? 'release bundles'} to build the name history from`,
          );
        else {
          options.onProgress?.({ source: 'attack', phase: 'history', what: `ATT&CK ${version}` });
          const { bytes } = await fetchBytes(attackReleaseUrl(version, options.mirror), 'attack', options);
          writeFileSync(`${cached}.tmp`, bytes);
          renameSync(`${cached}.tmp`, cached);
        }
      }
      releases.push({ version, bundle: readStixBundle(cached) });
    }
    releases.push({
      version: 'current',
      bundle: readStixBundle(join(staging, CONTENT_SOURCES.attack.fileName!)),
    });
    const history = buildNameHistory(releases);
    for (const id of Object.keys(history)) delete history[id]!.vcurrent;
    writeFileSync(join(staging, 'technique-name-history.json'), JSON.stringify(history));
  } catch (error) {
    const previous = join(contentDir, 'attack', 'technique-name-history.json');
    if (existsSync(previous)) {
      cpSync(previous, join(staging, 'technique-name-history.json'));
      warnings.push(`name history not rebuilt (${describeError(error)}); the previous one is kept`);
    } else {
      warnings.push(
        `no name history (${describeError(error)}): former technique names will not be recognised`,
      );
    }
  }
}

async function fetchBytes(
  url: string,
  source: SourceName,
  options: UpdateOptions,
): Promise<{ bytes: Uint8Array; finalUrl: string }> {
  try {
    const fetched = await safeFetch(url, {
      ...CONTENT_FETCH_LIMITS,
      ...options.fetch,
      allowPrivate: options.mirror !== undefined,
      onProgress: (received, total) =>
        options.onProgress?.({ source, phase: 'download', received, total, what: url }),
    });
    return { bytes: fetched.bytes, finalUrl: fetched.url };
  } catch (error) {
    if (!(error instanceof VigilError)) throw error;
    throw new VigilError(error.code, `${source}: ${error.describe()}`, {}, { cause: error });
  }
}

/** The files each source needs, present or not, for `content status` on folders without a manifest. */
export function sourcePresent(contentDir: string, name: SourceName): boolean {
  const folder = join(contentDir, CONTENT_SOURCES[name].folder);
  switch (name) {
    case 'attack':
      return existsSync(join(folder, CONTENT_SOURCES.attack.fileName!));
    case 'kev':
      return existsSync(join(folder, CONTENT_SOURCES.kev.fileName!));
    case 'epss':
      return epssFile(folder) !== undefined;
    case 'warninglists':
      return existsSync(join(folder, 'lists'));
    case 'sigma':
      return existsSync(folder) && readdirSync(folder).some((f) => f.startsWith('rules'));
    case 'ssvc':
      return (CONTENT_SOURCES.ssvc.files ?? []).every((f) => existsSync(join(folder, f)));
    case 'lolbas':
      return existsSync(join(folder, 'yml'));
  }
}
