import { TEST_PLACES } from './mmdb.js';

/**
 * Authentication events of the identity providers and VPN gateways, written from each product's
 * documented format (JSON records for Entra ID and Okta, syslog lines for the gateways), for the
 * tests of Vigil's identity pack. Entra ID and Okta carry where the sign-in came from, as the
 * products place it, for addresses of the test geolocation database (TEST_PLACES).
 */

const iso = (at: number) => new Date(at).toISOString();

export type Kind = 'failure' | 'unknown' | 'success' | 'mfa-denied' | 'mfa-approved' | 'push-sent';

const COUNTRY_NAMES: Record<string, string> = {
  FR: 'France',
  AU: 'Australia',
  DE: 'Germany',
  US: 'United States',
};

/** Where the products place an address of the test networks; undefined for the others. */
function placeOf(ip: string) {
  return TEST_PLACES.find((place) => {
    const [network, bits] = place.network.split('/');
    const octets = Number(bits) / 8;
    return ip.split('.').slice(0, octets).join('.') === network!.split('.').slice(0, octets).join('.');
  });
}

// Entra ID: the diagnostic settings export and Sentinel's SigninLogs table, alternately, so that
// one pattern spans both shapes; every other SigninLogs row as the Log Analytics query API gives
// it, its dynamic columns (Status, LocationDetails) as JSON text.
const ENTRA_RESULT: Record<Kind, { code: string; details?: string }> = {
  failure: { code: '50126' },
  unknown: { code: '50034' },
  success: { code: '0' },
  'mfa-denied': { code: '500121', details: 'MFA denied; user declined the authentication' },
  'mfa-approved': { code: '0' },
  'push-sent': { code: '50074' },
};
const DESCRIPTIONS: Record<string, string> = {
  '0': '',
  '50126': 'Error validating credentials due to invalid username or password.',
  '50034': 'The user account does not exist in the directory.',
  '500121': 'Authentication failed during strong authentication request.',
  '50074': 'Strong Authentication is required.',
};
export function entra(kind: Kind, user: string, ip: string, at: number, n: number): string {
  const { code, details } = ENTRA_RESULT[kind];
  const place = placeOf(ip);
  const requirement = kind.startsWith('mfa') ? 'multiFactorAuthentication' : 'singleFactorAuthentication';
  const status = { errorCode: Number(code), failureReason: DESCRIPTIONS[code], additionalDetails: details };
  const asQueried = (column: object) => (n % 4 === 3 ? JSON.stringify(column) : column);
  if (n % 2 === 0) {
    return JSON.stringify({
      time: iso(at),
      resourceId: '/tenants/00000000-0000-0000-0000-000000000001/providers/Microsoft.aadiam',
      operationName: 'Sign-in activity',
      operationVersion: '1.0',
      category: 'SignInLogs',
      tenantId: '00000000-0000-0000-0000-000000000001',
      resultType: code,
      resultSignature: 'None',
      resultDescription: DESCRIPTIONS[code],
      durationMs: 0,
      callerIpAddress: ip,
      correlationId: `c0ffee00-0000-4000-8000-${String(n).padStart(12, '0')}`,
      identity: user,
      Level: 4,
      properties: {
        id: `5e1f0000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        createdDateTime: iso(at),
        userPrincipalName: user,
        userDisplayName: user.split('@')[0],
        appDisplayName: 'Office 365 Exchange Online',
        ipAddress: ip,
        clientAppUsed: 'Browser',
        authenticationRequirement: requirement,
        isInteractive: true,
        status,
        ...(place && { location: entraLocation(place) }),
      },
    });
  }
  return JSON.stringify({
    TenantId: '00000000-0000-0000-0000-000000000001',
    SourceSystem: 'Azure AD',
    TimeGenerated: iso(at),
    OperationName: 'Sign-in activity',
    Category: 'SignInLogs',
    ResultType: code,
    ResultDescription: DESCRIPTIONS[code],
    Identity: user.split('@')[0],
    Level: '4',
    AppDisplayName: 'Office 365 Exchange Online',
    AuthenticationRequirement: requirement,
    ClientAppUsed: 'Browser',
    IPAddress: ip,
    IsInteractive: true,
    Status: asQueried(status),
    UserPrincipalName: user,
    Type: 'SigninLogs',
    ...(place && { Location: place.country, LocationDetails: asQueried(entraLocation(place)) }),
  });
}

function entraLocation(place: NonNullable<ReturnType<typeof placeOf>>) {
  return {
    city: place.city,
    countryOrRegion: place.country,
    geoCoordinates: { latitude: place.latitude, longitude: place.longitude },
  };
}

// Okta System Log API LogEvents.
const OKTA_EVENT: Record<Kind, { eventType: string; result: string; reason?: string; message: string }> = {
  failure: {
    eventType: 'user.session.start',
    result: 'FAILURE',
    reason: 'INVALID_CREDENTIALS',
    message: 'User login to Okta',
  },
  unknown: {
    eventType: 'user.session.start',
    result: 'FAILURE',
    reason: 'UNKNOWN_USER',
    message: 'User login to Okta',
  },
  success: { eventType: 'user.session.start', result: 'SUCCESS', message: 'User login to Okta' },
  'mfa-denied': {
    eventType: 'user.mfa.okta_verify.deny_push',
    result: 'FAILURE',
    message: 'User rejected Okta push verify',
  },
  'mfa-approved': {
    eventType: 'user.authentication.auth_via_mfa',
    result: 'SUCCESS',
    message: 'Authentication of user via MFA',
  },
  'push-sent': {
    eventType: 'system.push.send_factor_verify_push',
    result: 'SUCCESS',
    message: 'A push was sent to the Okta Verify app',
  },
};
export function okta(kind: Kind, user: string, ip: string, at: number, n: number): string {
  const { eventType, result, reason, message } = OKTA_EVENT[kind];
  const place = placeOf(ip);
  return JSON.stringify({
    uuid: `0ca70000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    published: iso(at),
    eventType,
    version: '0',
    severity: result === 'SUCCESS' ? 'INFO' : 'WARN',
    legacyEventType: eventType === 'user.session.start' ? 'core.user_auth.login' : undefined,
    displayMessage: message,
    actor: {
      id: kind === 'unknown' ? 'unknown' : `00u${n}`,
      type: 'User',
      alternateId: user,
      displayName: user,
    },
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Windows 10', browser: 'CHROME' },
      zone: 'null',
      device: 'Computer',
      ipAddress: ip,
      geographicalContext: place
        ? {
            city: place.city,
            country: COUNTRY_NAMES[place.country],
            geolocation: { lat: place.latitude, lon: place.longitude },
          }
        : { country: 'United States' },
    },
    outcome: { result, ...(reason && { reason }) },
    transaction: { type: 'WEB', id: `tx${n}` },
    target: [],
  });
}

// FortiGate key=value syslog (FortiOS Log Message Reference: 39426 SSL VPN login fail, 39947 tunnel up).
export function fortigate(kind: Kind, user: string, ip: string, at: number, n: number): string {
  const d = new Date(at);
  const head = `<189>date=${iso(at).slice(0, 10)} time=${iso(at).slice(11, 19)} devname="FGT-EDGE" devid="FG100FTK20000001" eventtime=${d.getTime()}000000 tz="+0000"`;
  if (kind === 'success') {
    return `${head} logid="0101039947" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" tunnelid=${n} remip=${ip} tunnelip=10.212.134.${n % 200} user="${user}" group="vpn-users" dst_host="N/A" reason="tunnel established" msg="SSL tunnel established"`;
  }
  const reason = kind === 'unknown' ? 'sslvpn_login_unknown_user' : 'sslvpn_login_permission_denied';
  return `${head} logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 remip=${ip} user="${user}" group="N/A" dst_host="N/A" reason="${reason}" msg="SSL user failed to logged in"`;
}

// PAN-OS GLOBALPROTECT log in the CSV syslog format, with an RFC 5424 header (PAN-OS's IETF format).
export function globalprotect(kind: Kind, user: string, ip: string, at: number, n: number): string {
  const t = iso(at).slice(0, 19).replace('T', ' ').replace(/-/g, '/');
  const ok = kind === 'success';
  const columns = [
    '1',
    t,
    '013201001234',
    'GLOBALPROTECT',
    '0',
    '2817',
    t,
    'vsys1',
    n % 2 ? 'gateway-auth' : 'portal-auth',
    'login',
    'LDAP',
    '',
    user,
    'US',
    `LAPTOP-${n}`,
    ip,
    '',
    '0.0.0.0',
    '',
    '',
    '',
    '6.2.1',
    'Windows',
    '"Microsoft Windows 11 Pro , 64-bit"',
    '1',
    '',
    ok ? '' : 'Authentication failed: Invalid username or password',
    '',
    ok ? 'success' : 'failure',
    'Paris',
    '0',
    'on-demand',
    '0',
    'GP-Portal',
    String(7_000_000 + n),
    '0x8000000000000000',
    `${iso(at).slice(0, 19)}.000+00:00`,
    '',
    '',
    '',
    '',
    '',
    '0',
    '0',
    '0',
    '0',
    '',
    'PA-VM',
    '1',
    '',
  ];
  return `<14>1 ${iso(at)} PA-VM - - - - ${columns.join(',')}`;
}

// Cisco ASA messages (ASA Series Syslog Messages: 113005 rejected, 113039 AnyConnect session started).
export function asa(kind: Kind, user: string, ip: string, at: number): string {
  const d = new Date(at);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const stamp = `${month} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()} ${iso(at).slice(11, 19)}`;
  const text =
    kind === 'success'
      ? `%ASA-6-113039: Group <GroupPolicy_Staff> User <${user}> IP <${ip}> AnyConnect parent session started.`
      : `%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.10 : user = ${user} : user IP = ${ip}`;
  return `<166>${stamp} asa-edge : ${text}`;
}
