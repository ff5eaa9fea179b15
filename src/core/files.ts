import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { VigilError } from './errors.js';

export interface CollectedFiles {
  files: string[];
  /** Paths the user named that do not exist or cannot be read; the rest is still collected. */
  errors: VigilError[];
  /** Folders the user named that hold no file with one of the extensions. */
  emptyFolders: string[];
}

/**
 * Expands files and folders (recursively) into the files whose extension is in `extensions`
 * (lower case, with the dot). Files named explicitly are kept whatever their extension.
 * The order is stable: sorted by path within each folder, folders in the order given.
 */
export async function collectFiles(
  paths: readonly string[],
  extensions: readonly string[],
): Promise<CollectedFiles> {
  const files: string[] = [];
  const errors: VigilError[] = [];
  const emptyFolders: string[] = [];
  const wanted = new Set(extensions);

  const visited = new Set<string>();

  /** False when the folder was walked already. */
  async function walk(dir: string): Promise<boolean> {
    // Symbolic links are followed; a folder met twice (a link loop) is walked once.
    const real = await realpath(dir).catch(() => dir);
    if (visited.has(real)) return false;
    visited.add(real);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      errors.push(
        new VigilError('FILE_UNREADABLE', `cannot read folder: ${(error as Error).message}`, { file: dir }),
      );
      return false;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        isDirectory = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDirectory) await walk(path);
      else if (isFile && wanted.has(extname(entry.name).toLowerCase())) files.push(path);
    }
    return true;
  }

  for (const path of paths) {
    let info: import('node:fs').Stats;
    try {
      info = await stat(path);
    } catch {
      errors.push(new VigilError('FILE_NOT_FOUND', 'no such file or folder', { file: path }));
      continue;
    }
    if (info.isDirectory()) {
      const before = files.length;
      if ((await walk(path)) && files.length === before) emptyFolders.push(path);
    } else files.push(path);
  }
  return { files, errors, emptyFolders };
}
