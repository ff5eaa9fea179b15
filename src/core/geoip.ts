import { readFileSync } from 'node:fs';
import { Reader, type Response } from 'mmdb-lib';
import { VigilError } from './errors.js';

/** Where an address is, as a geolocation database tells. */
export interface Place {
  latitude: number;
  longitude: number;
  /** How far off the place may be (km), when the database says. */
  accuracyKm?: number;
  /** ISO 3166-1 alpha-2 code. */
  country?: string;
  city?: string;
  /** What the event itself calls the place (`Paris, FR`), for places given as coordinates. */
  name?: string;
}

/** Places an address; undefined when it is unknown, private or not an address. */
export type Locate = (address: string) => Place | undefined;

/** The parts of a MaxMind City (or compatible) record that Vigil reads. */
interface CityRecord {
  location?: { latitude?: number; longitude?: number; accuracy_radius?: number };
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  city?: { names?: Record<string, string> };
}

/** How many answers a database keeps at hand: sign-ins come back from the same few addresses. */
const CACHE_SIZE = 10_000;

/**
 * Opens a geolocation database in the MaxMind DB format (GeoLite2-City, GeoIP2-City, DB-IP's
 * city lite, or any with `location` and `country`). Read whole into memory, so lookups never
 * touch the disk; a file that is not such a database is refused with what it lacks.
 */
export function openGeoDatabase(path: string): Locate {
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(readFileSync(path));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new VigilError('GEOIP_UNREADABLE', `not a MaxMind DB geolocation database: ${reason}`, {
      file: path,
    });
  }
  const cache = new Map<string, Place | null>();
  return (address) => {
    const known = cache.get(address);
    if (known !== undefined) return known ?? undefined;
    const place = placeOf(reader, address);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(address, place ?? null);
    return place;
  };
}

function placeOf(reader: Reader<Response>, address: string): Place | undefined {
  let record: CityRecord | null;
  try {
    record = reader.get(address.trim()) as CityRecord | null;
  } catch {
    return undefined; // not an address (a host name, '-'), or IPv6 in an IPv4-only database
  }
  const location = record?.location;
  if (typeof location?.latitude !== 'number' || typeof location.longitude !== 'number') return undefined;
  const place: Place = { latitude: location.latitude, longitude: location.longitude };
  if (typeof location.accuracy_radius === 'number') place.accuracyKm = location.accuracy_radius;
  const country = record?.country?.iso_code ?? record?.registered_country?.iso_code;
  if (country) place.country = country;
  const city = record?.city?.names?.en;
  if (city) place.city = city;
  return place;
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km (haversine). */
export function distanceKm(
  a: Pick<Place, 'latitude' | 'longitude'>,
  b: Pick<Place, 'latitude' | 'longitude'>,
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** `Paris, FR`, `FR`, or the coordinates when nothing else is known. */
export function describePlace(place: Place): string {
  if (place.name) return place.name;
  if (place.city && place.country) return `${place.city}, ${place.country}`;
  return place.country ?? `${place.latitude.toFixed(2)}, ${place.longitude.toFixed(2)}`;
}
