import { type Locate, openGeoDatabase } from '../core/index.js';

/**
 * The geolocation database a command was given (`--geoip FILE`, else `VIGIL_GEOIP`), opened; none
 * when neither is set. A file that cannot be read as one stops the command before any work: a
 * hunt that silently placed nothing would miss every impossible journey.
 */
export function geoDatabase(flag: string | undefined): Locate | undefined {
  const path = flag ?? (process.env.VIGIL_GEOIP || undefined);
  return path === undefined ? undefined : openGeoDatabase(path);
}
