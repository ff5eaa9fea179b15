import cliProgress from 'cli-progress';
import type { HuntProgress } from '../detect/index.js';
import { formatCount } from './terminal.js';

/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes and CI stay clean). */
export function huntProgressBar(enabled: boolean): { update: (p: HuntProgress) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        ' {bar} {percentage}% | file {file}/{files} | {events} events | {detections} detections | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last = 0;
  return {
    update(p) {
      const payload = {
        events: formatCount(p.events),
        detections: formatCount(p.detections),
      };
      if (!started) {
        bar.start(Math.max(p.totalBytes, 1), p.bytes, payload);
        started = true;
        return;
      }
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      bar.update(p.bytes, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
