/**
 * The geolocation database a command was given: `--geoip FILE` (or, for serve, `geoip:` in
 * config.yml), else `VIGIL_GEOIP`; none when neither is set. The command opens it before any
 * work, so a file that cannot be read as one stops it at once: a hunt that silently placed
 * nothing would miss every impossible journey.
 */
export function geoipPath(given: string | undefined): string | undefined {
  return given || process.env.VIGIL_GEOIP || undefined;
}
