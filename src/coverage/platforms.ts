import type { Collection } from './inventory.js';
import type { LogNeed } from './visibility.js';

/**
 * Platforms are named as ATT&CK names them (Windows, Linux, macOS, ESXi, IaaS, SaaS, Office Suite,
 * Identity Provider, Network Devices, Containers): the common ground of a threat (the platforms an
 * advisory names, those of the software a group uses), an inventory, a log source and a technique.
 * Logs of no particular platform (a Sigma log source with a category and no product: proxy,
 * webserver, dns) are `ANY_PLATFORM`: they serve whatever the threat runs on.
 */
export const ANY_PLATFORM = 'any platform';

/** ATT&CK platforms of the Sigma products; a product not listed is an application or sensor of any platform. */
const PRODUCT_PLATFORMS: Record<string, string[]> = {
  windows: ['Windows'],
  rpc_firewall: ['Windows'],
  linux: ['Linux'],
  macos: ['macOS'],
  esxi: ['ESXi'],
  aws: ['IaaS'],
  gcp: ['IaaS'],
  azure: ['IaaS', 'Identity Provider'],
  m365: ['Office Suite'],
  google_workspace: ['Office Suite'],
  okta: ['Identity Provider'],
  onelogin: ['Identity Provider'],
  github: ['SaaS'],
  bitbucket: ['SaaS'],
  kubernetes: ['Containers'],
  cisco: ['Network Devices'],
  fortigate: ['Network Devices'],
  fortios: ['Network Devices'],
  paloalto: ['Network Devices'],
  juniper: ['Network Devices'],
  huawei: ['Network Devices'],
};

/** The platforms whose logs a need names. */
export function needPlatforms(need: LogNeed): string[] {
  if (need.kind === 'windows') return ['Windows'];
  if (need.kind === 'any') return [ANY_PLATFORM];
  const product = need.logsource.product;
  return (product && PRODUCT_PLATFORMS[product]) || [ANY_PLATFORM];
}

/** The platforms an inventory collects logs from (logs of any platform name none). */
export function collectionPlatforms(collection: Collection): string[] {
  const platforms = new Set<string>();
  if (collection.windows.size > 0) platforms.add('Windows');
  for (const source of collection.logsources) {
    for (const platform of source.product ? (PRODUCT_PLATFORMS[source.product] ?? []) : [])
      platforms.add(platform);
  }
  return [...platforms].sort();
}

/**
 * How reports name the systems a threat runs on or attacks. Case matters where the word is also
 * common English ("windows"), and products stand for their platform (Exchange Server runs on
 * Windows). A name in a path (`C:\Windows\…`) still says Windows.
 */
const NAMED_PLATFORMS: [RegExp, string][] = [
  [/\bWindows\b|\bActive Directory\b|\bExchange Server|\bMicrosoft Exchange\b/, 'Windows'],
  [/\bLinux\b/i, 'Linux'],
  [/\bmac ?OS\b|\bOS X\b/i, 'macOS'],
  [/\bESXi\b|\bvSphere\b|\bvCenter\b/i, 'ESXi'],
  [/\bAWS\b|\bAmazon Web Services\b|\bGoogle Cloud\b|\bGCP\b|\bAzure\b(?! ?AD\b| Active Directory)/, 'IaaS'],
  [
    /\bMicrosoft 365\b|\bOffice 365\b|\bM365\b|\bO365\b|\bGoogle Workspace\b|\bExchange Online\b/,
    'Office Suite',
  ],
  [/\bOkta\b|\bEntra ID\b|\bAzure AD\b|\bAzure Active Directory\b|\bOneLogin\b/, 'Identity Provider'],
  [/\bKubernetes\b|\bDocker\b/, 'Containers'],
  [
    /\bFortiOS\b|\bFortiGate\b|\bPulse Secure\b|\bIvanti Connect Secure\b|\bCitrix ADC\b|\bNetScaler\b|\bSonicWall\b|\bPAN-OS\b|\bCisco (?:ASA|IOS)\b/,
    'Network Devices',
  ],
  [/\bSaaS\b|\bSalesforce\b/, 'SaaS'],
];

/** The ATT&CK platforms a report's text names (Windows, Linux, ESXi, …), in ATT&CK's words. */
export function platformsNamedIn(text: string): string[] {
  return NAMED_PLATFORMS.filter(([pattern]) => pattern.test(text)).map(([, platform]) => platform);
}
