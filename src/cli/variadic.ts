import { readdirSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import pc from 'picocolors';
import { LOG_EXTENSIONS } from '../logs/index.js';
import { UsageError } from './terminal.js';

/**
 * Options such as `--rules PATHS...` take every word up to the next option, so in
 * `vigil hunt --rules my-rules/ logs/` the logs went to the rules. Rules, filters and pipelines
 * are YAML; a log file, or a folder that holds logs and no YAML at all, is never one of them, so
 * such values are given back to the logs wherever they were written. Anything less plain is
 * left where it was, and a command left without its positional paths says exactly why.
 */

const YAML_EXTENSIONS = new Set(['.yml', '.yaml']);
const LOG_KINDS = new Set(LOG_EXTENSIONS);

/** A path that can only be logs: a log file, or a folder with log files and no YAML file. */
function plainlyLogs(path: string): boolean {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch {
    return false;
  }
  if (info.isFile()) return LOG_KINDS.has(extname(path).toLowerCase());
  if (!info.isDirectory()) return false;
  let logs = false;
  try {
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const extension = extname(entry.name).toLowerCase();
      if (YAML_EXTENSIONS.has(extension)) return false;
      if (LOG_KINDS.has(extension)) logs = true;
    }
  } catch {
    return false;
  }
  return logs;
}

export interface VariadicPaths {
  /** The option as written on the command line, e.g. `--rules`. */
  flag: string;
  values: string[] | undefined;
}

/**
 * Takes the plainly-log values out of the variadic path options (changing their lists) and
 * returns them, telling on standard error what was moved and why.
 */
export function logsTakenBy(options: VariadicPaths[]): string[] {
  const logs: string[] = [];
  for (const option of options) {
    if (!option.values) continue;
    const moved = option.values.filter(plainlyLogs);
    if (moved.length === 0) continue;
    option.values.splice(0, option.values.length, ...option.values.filter((value) => !moved.includes(value)));
    logs.push(...moved);
    process.stderr.write(
      pc.dim(
        `note: ${moved.join(', ')} read as logs: ${option.flag} takes every path after it, and these are logs, not YAML\n`,
      ),
    );
  }
  return logs;
}

/**
 * The usage error of a command left without its positional paths (`what`, written `placeholder`
 * in usage): when a variadic option took them, it names the option and the paths it took, and
 * shows both ways to write the command.
 */
export function missingPaths(
  command: string,
  what: string,
  placeholder: string,
  options: readonly VariadicPaths[],
): UsageError {
  const last = options.filter((option) => option.values?.length).at(-1);
  if (!last) return new UsageError(`no ${what} given: vigil ${command} ${placeholder}... [options]`);
  return new UsageError(
    `no ${what} given: ${last.flag} takes every path that follows it, so it took ${last.values!.join(', ')}. ` +
      `Write the ${what} first (vigil ${command} ${placeholder}... ${last.flag} PATHS...), or end the list with -- ` +
      `(vigil ${command} ${last.flag} PATHS... -- ${placeholder}...)`,
  );
}
