import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { VigilError } from '../core/index.js';
import { DOTNET_ASSEMBLY, WINDOWS_BINARIES, WINDOWS_FOLDERS, WINDOWS_KEYS } from './windows.js';

/**
 * A program or library that Windows installs, or that LOLBAS lists as a Microsoft-signed binary
 * attackers abuse. Named in an advisory, it tells what the actors did (context for a technique);
 * it is not an indicator: the same name is on every Windows host.
 */
export interface KnownBinary {
  /** As its source writes it ("Wmic.exe"). */
  name: string;
  source: 'lolbas' | 'windows';
  /** LOLBAS's description of it. */
  description?: string;
  /** The folders it is installed in, normalised (lower case, `c:\windows\…`). */
  folders: string[];
}

/**
 * The Windows binaries Vigil knows: its own list of what Windows installs, and the LOLBAS entries
 * of the content folder (read when first asked, as most advisories name none).
 */
export class WindowsBinaries {
  private byName: Map<string, KnownBinary> | undefined;
  private readonly lolbasDir: string | undefined;
  private readonly onProblem: ((problem: VigilError) => void) | undefined;

  /** `lolbasDir`: a LOLBAS checkout or its `yml/` folder; the built-in list alone without it. */
  constructor(lolbasDir?: string, onProblem?: (problem: VigilError) => void) {
    this.lolbasDir = lolbasDir;
    this.onProblem = onProblem;
  }

  /** The binary a file name names (case ignored), if Windows installs it or LOLBAS lists it. */
  lookup(fileName: string): KnownBinary | undefined {
    const known = this.index().get(fileName.toLowerCase());
    if (known || !DOTNET_ASSEMBLY.test(fileName)) return known;
    return { name: fileName, source: 'windows', folders: [] };
  }

  /**
   * The binary a Windows path names when the path is where that binary is installed
   * (`C:\Windows\System32\wevtutil.exe`, `%SystemRoot%\System32\…`). The same name anywhere else
   * (`C:\ProgramData\svchost.exe`) is masquerading: an indicator, so undefined.
   */
  atHome(path: string): KnownBinary | undefined {
    const normal = normalizePath(path);
    const cut = normal.lastIndexOf('\\');
    if (cut < 0) return undefined;
    const binary = this.lookup(normal.slice(cut + 1));
    return binary?.folders.includes(normal.slice(0, cut)) ? binary : undefined;
  }

  private index(): Map<string, KnownBinary> {
    if (this.byName) return this.byName;
    const byName = new Map<string, KnownBinary>();
    for (const name of WINDOWS_BINARIES)
      byName.set(name, { name, source: 'windows', folders: [...WINDOWS_FOLDERS] });
    const lolbas = this.lolbasDir ? readLolbas(this.lolbasDir, this.onProblem) : [];
    for (const entry of lolbas) {
      for (const name of entry.names) {
        const known = byName.get(name.toLowerCase());
        byName.set(name.toLowerCase(), {
          name: entry.names[0]!,
          source: 'lolbas',
          description: entry.description,
          folders: [...new Set([...(known?.folders ?? []), ...entry.folders])],
        });
      }
    }
    this.byName = byName;
    return byName;
  }
}

/**
 * Whether a registry key is one every Windows host has (an autostart, services or logon key) or a
 * part of one: the place the actors wrote to, not their entry in it.
 */
export function isStandardKey(key: string): boolean {
  const normal = key
    .toLowerCase()
    .replace(/^hkey_local_machine\\/, 'hklm\\')
    .replace(/^hkey_current_user\\/, 'hkcu\\')
    .replace(/\\+$/, '');
  return WINDOWS_KEYS.some((standard) => standard === normal || standard.startsWith(`${normal}\\`));
}

interface LolbasEntry {
  names: string[];
  description?: string;
  folders: string[];
}

/**
 * LOLBAS entries (`yml/<category>/<Name>.yml`): each binary's name and aliases, description and
 * install paths. An entry that cannot be read is reported and left out.
 */
export function readLolbas(dir: string, onProblem?: (problem: VigilError) => void): LolbasEntry[] {
  const root = existsSync(join(dir, 'yml')) ? join(dir, 'yml') : dir;
  if (!existsSync(root)) return [];
  const entries: LolbasEntry[] = [];
  for (const category of readdirSync(root, { withFileTypes: true })) {
    if (!category.isDirectory()) continue;
    for (const fileName of readdirSync(join(root, category.name)).sort()) {
      if (!/\.ya?ml$/i.test(fileName)) continue;
      const file = join(root, category.name, fileName);
      try {
        const entry = lolbasEntry(jsyaml.load(readFileSync(file, 'utf8')));
        if (entry) entries.push(entry);
        else onProblem?.(new VigilError('LOLBAS_INVALID', 'LOLBAS entry without a Name, skipped', { file }));
      } catch (error) {
        onProblem?.(
          new VigilError('LOLBAS_INVALID', `LOLBAS entry skipped: ${(error as Error).message}`, { file }),
        );
      }
    }
  }
  return entries;
}

function lolbasEntry(raw: unknown): LolbasEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { Name, Description, Aliases, Full_Path } = raw as Record<string, unknown>;
  if (typeof Name !== 'string' || Name.trim() === '') return undefined;
  const aliases = Array.isArray(Aliases)
    ? Aliases.map((a) => (a as { Alias?: unknown })?.Alias).filter((a): a is string => typeof a === 'string')
    : [];
  const folders = Array.isArray(Full_Path)
    ? Full_Path.map((p) => (p as { Path?: unknown })?.Path)
        .filter((p): p is string => typeof p === 'string' && /^[a-z]:\\/i.test(p) && !/[<>]/.test(p))
        .map((p) => {
          const normal = normalizePath(p);
          return normal.slice(0, normal.lastIndexOf('\\'));
        })
    : [];
  return {
    names: [Name.trim(), ...aliases.map((a) => a.trim())],
    description: typeof Description === 'string' ? Description.trim() : undefined,
    folders,
  };
}

/** A Windows path compared without case, on drive C:, with its environment variables expanded. */
function normalizePath(path: string): string {
  return path
    .trim()
    .replace(/^['"]|['"]$/g, '')
    .toLowerCase()
    .replace(/^%(?:systemroot|windir)%/, 'c:\\windows')
    .replace(/^%programfiles%/, 'c:\\program files')
    .replace(/^%programfiles\(x86\)%/, 'c:\\program files (x86)')
    .replace(/^[a-z]:\\/, 'c:\\')
    .replace(/\\+/g, '\\');
}
