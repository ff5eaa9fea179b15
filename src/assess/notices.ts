import type { VigilError } from '../core/index.js';

/**
 * What a workflow tells besides its result: the problems it met in its inputs. Workflows never
 * print; a face shows their notices (the CLI on standard error, as they come; a service in its
 * answer) and decides what they mean for it (the CLI's exit code 1 for errors).
 */
export interface Notice {
  /**
   * `error`: an input, or part of one, could not be read, and the result lacks it;
   * `warning`: content read only in part, or a part of the threat left out of the scope;
   * `skipped`: entries of an input left out (rules, scan rows, assets), the rest used.
   */
  severity: 'error' | 'warning' | 'skipped';
  input: NoticeInput;
  /** Problems of one input told together, so a face can show the first few and count the rest. */
  problems: VigilError[];
}

/** The input a notice is about. */
export type NoticeInput =
  | 'logs'
  | 'rules'
  | 'threat'
  | 'kev'
  | 'warning-lists'
  | 'lolbas'
  | 'scan'
  | 'assets';

export type NoticeListener = (notice: Notice) => void;

/** The notices of one run: kept for its result and passed on at once to a listener. */
export class Notices {
  readonly list: Notice[] = [];

  constructor(private readonly listener?: NoticeListener) {}

  /** Keeps a notice (one without problems says nothing and is dropped). */
  readonly tell = (notice: Notice): void => {
    if (notice.problems.length === 0) return;
    this.list.push(notice);
    this.listener?.(notice);
  };
}

/** True when some input could not be read: the result is all that could be, not all there was. */
export function incomplete(notices: readonly Notice[]): boolean {
  return notices.some((notice) => notice.severity === 'error');
}
