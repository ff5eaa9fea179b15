import { collectFiles, type LogEvent, VigilError } from '../core/index.js';
import { CollectedLogs, type Inventory, readInventory } from '../coverage/index.js';
import { DetectionEngine, ReadTally, recognizedLogsources } from '../detect/index.js';
import { LOG_EXTENSIONS, readEvents } from '../logs/index.js';
import { builtinPipelines, combinePipelines, type PipelineSet } from '../sigma/index.js';
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
  collected?: { inventory(origin: string): Inventory },
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

/**
 * What events show is collected, told event by event: every Windows channel and event ID, and the
 * Sigma log sources the pipelines recognize the other events as (Linux, Zeek, cloud …), by the
 * same recognition `hunt` counts its events by. What `coverage --logs` and the service's console
 * (from a tenant's stored events) both take as collected.
 */
export class RecognizedLogs {
  private readonly collected = new CollectedLogs();
  /** An engine without rules only recognizes what each event is, by the pipelines. */
  private readonly recognizer: DetectionEngine;

  constructor(private readonly pipelines: PipelineSet) {
    this.recognizer = new DetectionEngine([], pipelines);
  }

  add(event: LogEvent): void {
    this.collected.add(event);
    this.recognizer.evaluate(event);
  }

  /** What was seen so far, as an inventory named after where it came from. */
  inventory(origin: string): Inventory {
    for (const [label] of this.recognizer.takeRecognized())
      for (const logsource of recognizedLogsources(this.pipelines, label))
        this.collected.addLogsource(logsource);
    return this.collected.inventory(origin);
  }
}

/** What the logs show is collected (by the built-in pipelines); a log nothing could be read from is told as an error. */
async function collectedIn(paths: string[], tell: NoticeListener): Promise<RecognizedLogs> {
  const { files } = await logFiles(paths, tell);
  const collected = new RecognizedLogs(combinePipelines(await builtinPipelines()));
  const tally = new ReadTally();
  for (const file of files) {
    let events = 0;
    for await (const event of readEvents(file, { onError: (error) => tally.problem(error.location) })) {
      collected.add(event);
      events++;
    }
    tally.add(file, events);
  }
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
