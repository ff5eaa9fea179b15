import { collectFiles, VigilError } from '../core/index.js';
import { CollectedLogs, type Inventory, readInventory } from '../coverage/index.js';
import { DetectionEngine, ReadTally, recognizedLogsources } from '../detect/index.js';
import { LOG_EXTENSIONS, readEvents } from '../logs/index.js';
import { builtinPipelines, combinePipelines } from '../sigma/index.js';
import type { NoticeListener } from './notices.js';

/** What is collected: a log-source inventory, or else what sample logs hold. */
export interface InventoryOptions {
  /** What is collected, already known (the service's, from a tenant's stored events): wins over the rest. */
  inventory?: Inventory;
  /** The log-source inventory (YAML). */
  logsources?: string;
  /** Sample logs, files or folders: what they hold is taken as collected when there is no inventory. */
  logs?: string[];
}

/**
 * What is collected: the inventory, or what the logs hold, or nothing (undefined: every deployed
 * rule is blind). `collected` is what a pass over those logs already saw (the assessment hunts them
 * anyway); without it they are read here.
 */
export async function coverageInventory(
  options: InventoryOptions,
  tell: NoticeListener,
  collected?: CollectedLogs,
): Promise<Inventory | undefined> {
  if (options.inventory) return options.inventory;
  if (options.logsources) return readInventory(options.logsources);
  if (!options.logs?.length) return undefined;
  return (collected ?? (await collectedIn(options.logs, tell))).inventory(options.logs.join(', '));
}

/**
 * The log files under the paths. A path that is not there, or a folder without logs, is told as an
 * error at once: it would otherwise read as "nothing collected", and every rule as blind. Nothing
 * at all to read is an error that stops the run.
 */
export async function logFiles(
  paths: readonly string[],
  tell: NoticeListener,
): Promise<{ files: string[]; unread: number }> {
  const { files, errors, emptyFolders } = await collectFiles(paths, LOG_EXTENSIONS);
  tell({ severity: 'error', input: 'logs', problems: errors });
  const kinds = LOG_EXTENSIONS.join(', ');
  if (files.length === 0)
    throw new VigilError('NO_INPUT_FILES', `no ${kinds} files found in ${paths.join(', ')}`);
  const empty = emptyFolders.map(
    (folder) => new VigilError('NO_INPUT_FILES', `no ${kinds} files in this folder`, { file: folder }),
  );
  tell({ severity: 'error', input: 'logs', problems: empty });
  return { files, unread: errors.length + empty.length };
}

/** Every (channel, event ID) the logs hold; a log nothing could be read from is told as an error. */
async function collectedIn(paths: string[], tell: NoticeListener): Promise<CollectedLogs> {
  const { files } = await logFiles(paths, tell);
  const collected = new CollectedLogs();
  const tally = new ReadTally();
  // An engine without rules only recognizes what each event is, by the built-in pipelines.
  const pipelines = combinePipelines(await builtinPipelines());
  const recognizer = new DetectionEngine([], pipelines);
  for (const file of files) {
    let events = 0;
    for await (const event of readEvents(file, { onError: (error) => tally.problem(error.location) })) {
      collected.add(event);
      recognizer.evaluate(event);
      events++;
    }
    tally.add(file, events);
  }
  for (const [label] of recognizer.takeRecognized())
    for (const logsource of recognizedLogsources(pipelines, label)) collected.addLogsource(logsource);
  tell({
    severity: 'error',
    input: 'logs',
    problems: tally
      .unread(files)
      .map(
        (file) =>
          new VigilError('LOG_UNREAD', 'no event could be read; it shows nothing collected', { file }),
      ),
  });
  return collected;
}
