/**
 * Baseline correlations benchmark: what Vigil's identity baselines cost for a tenant of many
 * accounts, in the correlation engine the service runs.
 *
 *   1. --accounts accounts (10,000 by default) each sign in to Entra ID three times a day, at their
 *      own hours and from their own city, for --days days (30): Sentinel SigninLogs rows read by the
 *      JSON reader and fed, in time order, as matches of `vigil_entra_auth_success` to every
 *      correlation of rules/identity (impossible travel, new country, unusual hour, dormant
 *      account, and the window correlations that read the same rule): matches judged per second;
 *   2. the state this leaves, as the service saves it with its correlation snapshots: its size as
 *      JSON, the time to write it out and to read it back, and the heap it holds.
 *
 * The detection rule itself is not evaluated (its one condition is `ResultType: '0'`); bench:serve
 * and bench:sigma measure rule evaluation.
 *
 *   npm run bench:baselines [-- --accounts N] [-- --days D]
 */
import { fileURLToPath } from 'node:url';
import { referenceResolver } from '../src/detect/index.js';
import { toLogEvent } from '../src/logs/index.js';
import { CorrelationEngine, type DetectionRule, loadRules } from '../src/sigma/index.js';
import { argNumber, count, printRows } from './common.js';

const ACCOUNTS = argNumber('accounts', 10_000);
const DAYS = argNumber('days', 30);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 9, 5);

const CITIES = [
  { country: 'FR', latitude: 48.86, longitude: 2.35 },
  { country: 'DE', latitude: 52.52, longitude: 13.4 },
  { country: 'US', latitude: 40.71, longitude: -74.0 },
  { country: 'GB', latitude: 51.51, longitude: -0.13 },
  { country: 'AU', latitude: -33.87, longitude: 151.21 },
];

const rulesDir = fileURLToPath(new URL('../rules/identity/', import.meta.url));
const set = await loadRules([rulesDir]);
if (set.errors.length) throw new Error(set.errors.map((e) => e.describe()).join('\n'));
const resolve = referenceResolver(set);
const signIn = resolve('vigil_entra_auth_success') as DetectionRule;
const engine = new CorrelationEngine(set.correlations, resolve);

function signInRow(account: number, time: number) {
  const city = CITIES[account % CITIES.length]!;
  return {
    TimeGenerated: new Date(time).toISOString(),
    UserPrincipalName: `user${account}@corp.example`,
    ResultType: '0',
    IPAddress: `198.18.${(account >> 8) & 255}.${account & 255}`,
    LocationDetails: {
      countryOrRegion: city.country,
      geoCoordinates: { latitude: city.latitude, longitude: city.longitude },
    },
  };
}

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let matches = 0;
let results = 0;
const started = performance.now();
for (let day = 0; day < DAYS; day++)
  for (const hour of [8, 12, 17])
    for (let account = 0; account < ACCOUNTS; account++) {
      // Each account keeps its own hours (one of three shifts), in time order across accounts.
      const time = START + day * DAY + (hour + (account % 3)) * HOUR + account * 10;
      const event = toLogEvent(signInRow(account, time), 'signinlogs.json', ++matches);
      results += engine.pushMatch(signIn, event, time).length;
    }
const judged = (performance.now() - started) / 1000;
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;

const built = performance.now();
const snapshot = engine.snapshot();
const json = JSON.stringify(snapshot);
const written = performance.now();
const restored = new CorrelationEngine(set.correlations, resolve);
restored.restore(JSON.parse(json));
const read = performance.now();

console.log(
  `bench:baselines: ${count(ACCOUNTS)} Entra ID accounts, 3 sign-ins a day for ${DAYS} days (${count(matches)} matches), rules/identity\n`,
);
printRows([
  [
    'matches judged',
    `${count(matches / judged)} per second (${judged.toFixed(1)} s; ${count(results)} results)`,
  ],
  [
    'state held',
    `${((heapAfter - heapBefore) / 1e6).toFixed(0)} MB of heap${globalThis.gc ? '' : ' (approximate: run with --expose-gc)'}`,
  ],
  [
    'snapshot',
    `${(json.length / 1e6).toFixed(1)} MB of JSON, ${count(json.length / ACCOUNTS)} bytes per account`,
  ],
  ['written out', `${(written - built).toFixed(0)} ms (built and serialized)`],
  ['read back', `${(read - written).toFixed(0)} ms (parsed and restored)`],
]);
