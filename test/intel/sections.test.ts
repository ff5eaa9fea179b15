import { describe, expect, it } from 'vitest';
import { asideSentence, lineRoles } from '../../src/intel/index.js';

/** Each line of a text with its role, as `kind label` ("aside references", "account"). */
function roles(lines: string[]): string[] {
  return lineRoles(lines.join('\n')).map((r) => (r.label ? `${r.kind} ${r.label}` : r.kind));
}

describe('the sections of an advisory', () => {
  it('tells the account, the advice and the asides of a government advisory apart', () => {
    expect(
      roles([
        'Technical Details',
        'The actors deleted shadow copies with vssadmin.',
        'Mitigations',
        'Identity and Access Management',
        'Threat actors use SMB to propagate malware across organizations.',
        'REFERENCES',
        'Stopransomware.gov is a whole-of-government approach.',
        'INFORMATION REQUESTED',
        'The FBI may seek the following information that you determine you can legally share, including:',
        'Email addresses of the attackers',
        'Bitcoin wallets used by the attackers',
        'DISCLAIMER',
        'The information in this report is being provided as is.',
        'Revisions',
        'Initial Version: November 17, 2022',
      ]),
    ).toEqual([
      'account',
      'account',
      'advice',
      // A sub-heading of the advice is still advice.
      'advice',
      'advice',
      'aside references',
      'aside references',
      'aside reporting',
      'aside reporting',
      // Short lines after a lead-in are its list, not headings of their own.
      'aside reporting',
      'aside reporting',
      'aside legal',
      'aside legal',
      'aside revisions',
      'aside revisions',
    ]);
  });

  it("ends an aside at an unknown heading written like its own, not at the aside's list of titles", () => {
    expect(
      roles([
        'Resources',
        'CISA Fact Sheet: TrickBot Malware',
        'MS-ISAC White Paper: Security Primer',
        'Cobalt Strike Infrastructure',
        'The beacons connected to two servers rented from the same host.',
      ]),
    ).toEqual(['aside references', 'aside references', 'aside references', 'account', 'account']);
  });

  it("reads the publisher's marketing as an aside, and a list it introduces with it", () => {
    expect(
      roles([
        'Conclusion',
        'The operators will likely continue.',
        'Palo Alto Networks helps detect and prevent Black Basta ransomware in the following ways:',
        'WildFire: All known samples are identified as malware.',
        'Cortex XDR:',
        'Next-Generation Firewalls: DNS Signatures detect the known C2 domains, which are also categorized as malware in Advanced URL Filtering.',
        'Get updates from Palo Alto Networks!',
        'Sign up to receive the latest news',
      ]),
    ).toEqual([
      'account',
      'account',
      'aside marketing',
      'aside marketing',
      'aside marketing',
      'account',
      'aside marketing',
      'aside marketing',
    ]);
  });

  it('limits a heading that introduces a list to that list', () => {
    expect(
      roles([
        'Actions to Take Today to Mitigate Cyber Threats from Ransomware:',
        '• Prioritize remediating known exploited vulnerabilities.',
        '• Enable and enforce multifactor authentication with strong passwords',
        'In June the actors gained access through a VPN appliance and moved laterally with RDP for a week.',
      ]),
    ).toEqual(['advice', 'advice', 'advice', 'account']);
  });

  it('takes no key of quoted data for a heading', () => {
    expect(
      roles(['title: Emotet Child Process', 'references:', ' - https://thedfirreport.com/', 'level: high']),
    ).toEqual(['account', 'account', 'account', 'account']);
  });

  it('knows sentences about the publisher or the reader, not the intrusion', () => {
    expect(
      asideSentence(
        'Victims of ransomware operations should report the incident to their local FBI field office or CISA.',
      ),
    ).toBe('reporting');
    expect(asideSentence('Visit stopransomware.gov to see all #StopRansomware advisories.')).toBe(
      'references',
    );
    expect(asideSentence('We offer multiple services including a Threat Feed service.')).toBe('marketing');
    expect(
      asideSentence(
        'Palo Alto Networks customers receive help with detection and prevention of Black Basta.',
      ),
    ).toBe('marketing');
    expect(
      asideSentence('The actors reported their progress to the operator over Telegram.'),
    ).toBeUndefined();
    expect(asideSentence('The ransomware deletes shadow copies and visits no web site.')).toBeUndefined();
  });
});
