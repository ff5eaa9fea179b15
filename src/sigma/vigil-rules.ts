import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vigil's own rule packs (identity detections and the like), shipped with it and loaded by default
 * beside SigmaHQ's. The same relative place from `src/` and `dist/`.
 */
export const VIGIL_RULES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules');
