import {
  Attribute,
  BusyError,
  Change,
  Client,
  EqualityFilter,
  NoSuchAttributeError,
  UnavailableError,
} from 'ldapts';
import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

export interface LdapConfig {
  url: string;
  /**
   * `active-directory`: sets the ACCOUNTDISABLE bit (0x2) of `userAccountControl`;
   * `openldap`: sets `pwdAccountLockedTime` to 000001010000Z, the ppolicy overlay's administrative lock.
   */
  kind: 'active-directory' | 'openldap';
  baseDn: string;
  bindDn: string;
  bindPassword: string;
  /** The attribute an account name is looked up by (sAMAccountName, uid). */
  userAttribute: string;
  /** CA certificate (PEM) that signed the server's, for ldaps:// and a private CA. */
  ca?: Buffer;
}

const ACCOUNTDISABLE = 0x2;
/** ppolicy's "locked by an administrator, until unlocked". */
const ADMIN_LOCK = '000001010000Z';

/** What the directory holds makes the action impossible (no such account, two of them): not retried. */
class DirectoryRefusal extends Error {}

/** Errors of the directory that may pass on their own (busy, unavailable, a dropped connection). */
function classify(error: unknown, what: string): Error {
  const message = `${what}: ${(error as Error).message}`;
  if (error instanceof BusyError || error instanceof UnavailableError) return new TransientFailure(message);
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|timeout|socket/i.test((error as Error).message))
    return new TransientFailure(message);
  return new Error(message);
}

/**
 * Disables directory accounts. What the account was before is kept with the step, so that a revert
 * gives back what was taken and no more: an account that was already disabled stays disabled.
 */
export class LdapConnector implements Connector {
  readonly capability = 'directory';

  constructor(private readonly config: LdapConfig) {}

  get target(): string {
    return `${this.config.kind} directory ${new URL(this.config.url).host}`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>): string {
    const change =
      this.config.kind === 'active-directory'
        ? `userAccountControl |= 0x2 (ACCOUNTDISABLE)`
        : `pwdAccountLockedTime: ${ADMIN_LOCK}`;
    return `LDAP ${new URL(this.config.url).origin}: find (${this.config.userAttribute}=${params.account}) under ${this.config.baseDn}, then modify ${change}`;
  }

  private async session<T>(work: (client: Client) => Promise<T>, what: string): Promise<T> {
    const client = new Client({
      url: this.config.url,
      timeout: 15_000,
      connectTimeout: 10_000,
      ...(this.config.ca && { tlsOptions: { ca: this.config.ca } }),
    });
    try {
      await client.bind(this.config.bindDn, this.config.bindPassword);
      return await work(client);
    } catch (error) {
      throw error instanceof TransientFailure || error instanceof DirectoryRefusal
        ? error
        : classify(error, what);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async find(
    client: Client,
    given: string,
  ): Promise<{ dn: string; values: Record<string, string[]> }> {
    // Windows events name accounts as DOMAIN\user; the directory knows them by the user part.
    const account = given.slice(given.lastIndexOf('\\') + 1);
    const attributes =
      this.config.kind === 'active-directory' ? ['userAccountControl'] : ['pwdAccountLockedTime'];
    const { searchEntries } = await client.search(this.config.baseDn, {
      scope: 'sub',
      filter: new EqualityFilter({ attribute: this.config.userAttribute, value: account }),
      attributes,
      sizeLimit: 2,
    });
    if (searchEntries.length === 0)
      throw new DirectoryRefusal(`account '${account}' is not in ${this.config.baseDn}`);
    if (searchEntries.length > 1)
      throw new DirectoryRefusal(
        `account '${account}' names more than one entry under ${this.config.baseDn}; refusing to guess`,
      );
    const [entry] = searchEntries;
    const values: Record<string, string[]> = {};
    for (const name of attributes) {
      const raw = entry![name] ?? entry![name.toLowerCase()];
      values[name] = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
    }
    return { dn: entry!.dn, values };
  }

  async run(
    action: string,
    params: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<ActionResult> {
    if (action !== 'disable_account') throw new Error(`an LDAP directory cannot ${action}`);
    const account = params.account!;
    options.signal.throwIfAborted();
    return this.session(async (client): Promise<ActionResult> => {
      const { dn, values } = await this.find(client, account);
      if (this.config.kind === 'active-directory') {
        const flags = Number(values.userAccountControl?.[0] ?? Number.NaN);
        if (!Number.isInteger(flags)) throw new DirectoryRefusal(`${dn} has no readable userAccountControl`);
        if (flags & ACCOUNTDISABLE)
          return { result: `${dn} was disabled already`, kept: { dn, wasDisabled: 'true' } };
        await client.modify(dn, this.replace('userAccountControl', String(flags | ACCOUNTDISABLE)));
        return {
          result: `${dn} disabled (userAccountControl ${flags} -> ${flags | ACCOUNTDISABLE})`,
          kept: { dn },
        };
      }
      if (values.pwdAccountLockedTime?.length)
        return { result: `${dn} was locked already`, kept: { dn, wasDisabled: 'true' } };
      await client.modify(dn, this.replace('pwdAccountLockedTime', ADMIN_LOCK));
      return { result: `${dn} locked (pwdAccountLockedTime ${ADMIN_LOCK})`, kept: { dn } };
    }, `disable ${account}`);
  }

  async revert(
    action: string,
    params: Readonly<Record<string, string>>,
    kept: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<string> {
    if (action !== 'disable_account') throw new Error(`an LDAP directory cannot undo ${action}`);
    const account = params.account!;
    if (kept.wasDisabled === 'true') return `${kept.dn ?? account} left disabled: it was before Vigil acted`;
    options.signal.throwIfAborted();
    return this.session(async (client) => {
      const { dn, values } = await this.find(client, account);
      if (this.config.kind === 'active-directory') {
        const flags = Number(values.userAccountControl?.[0] ?? Number.NaN);
        if (!Number.isInteger(flags)) throw new DirectoryRefusal(`${dn} has no readable userAccountControl`);
        if (!(flags & ACCOUNTDISABLE)) return `${dn} was enabled already`;
        await client.modify(dn, this.replace('userAccountControl', String(flags & ~ACCOUNTDISABLE)));
        return `${dn} enabled again (userAccountControl ${flags} -> ${flags & ~ACCOUNTDISABLE})`;
      }
      try {
        await client.modify(
          dn,
          new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdAccountLockedTime' }) }),
        );
      } catch (error) {
        if (error instanceof NoSuchAttributeError) return `${dn} was unlocked already`;
        throw error;
      }
      return `${dn} unlocked`;
    }, `enable ${account}`);
  }

  private replace(type: string, value: string): Change {
    return new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) });
  }
}
