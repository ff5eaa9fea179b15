import type { InputType } from './model.js';

/**
 * The actions a playbook step can name, by capability rather than vendor: which connector carries
 * out `firewall.block_address` is the service's configuration, so a playbook stays the same when the
 * firewall changes. Each parameter says what its value must be once the templates are filled.
 */
export interface ActionSpec {
  params: Record<string, { type: InputType; required: boolean }>;
  /** Whether the action can be undone (and so take a time to live). */
  revertible: boolean;
  description: string;
}

export const ACTIONS: Readonly<Record<string, ActionSpec>> = {
  'firewall.block_address': {
    params: { address: { type: 'ip', required: true } },
    revertible: true,
    description: 'add an address to the block set of the firewall',
  },
  'dns.block_domain': {
    params: { domain: { type: 'domain', required: true } },
    revertible: true,
    description: 'make a domain and its subdomains answer NXDOMAIN (a response policy zone)',
  },
  'directory.disable_account': {
    params: { account: { type: 'account', required: true } },
    revertible: true,
    description: 'disable an account in the directory (Active Directory or OpenLDAP)',
  },
  'edr.isolate_host': {
    params: { host: { type: 'host', required: true } },
    revertible: true,
    description:
      'cut a host off the network but for the EDR itself (Defender for Endpoint, CrowdStrike Falcon)',
  },
  'email.message': {
    params: { subject: { type: 'text', required: true }, text: { type: 'text', required: true } },
    revertible: false,
    description: 'send a mail through the relay to the recipients of the configuration',
  },
  'notify.message': {
    params: { title: { type: 'text', required: false }, text: { type: 'text', required: true } },
    revertible: false,
    description: 'send a message to a webhook (JSON, Slack or Teams format)',
  },
};
