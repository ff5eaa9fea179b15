import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/index.js';

const LOCK_FILE = 'serve.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes this process the only `vigil serve` of a data folder: two services on one event log and
 * database would number events twice. A lock left by a process that is gone is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VigilError(
          'DATA_DIR_UNUSABLE',
          `cannot lock the data folder: ${(error as Error).message}`,
          {
            file: dir,
          },
        );
      }
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new VigilError(
          'DATA_DIR_IN_USE',
          `another vigil serve (process ${pid}) is using this data folder; stop it first, or give another --data`,
          { file: dir },
        );
      }
      unlinkSync(file);
    }
  }
  throw new VigilError('DATA_DIR_IN_USE', 'could not take the lock of the data folder', { file: dir });
}
