import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import { freePort } from './system.js';

/**
 * A real OpenLDAP `slapd` for a test: a suffix, the ppolicy overlay with a default policy (so a
 * locked account cannot bind), and two Active Directory attributes (`userAccountControl`,
 * `sAMAccountName`) added to its schema so the AD way can be run against it too.
 */
export const hasSlapd = spawnSync('slapd', ['-VV']).error === undefined;
export const BASE = 'dc=corp,dc=example';
export const ADMIN = `cn=admin,${BASE}`;
export const ADMIN_PASSWORD = 'secret';

export interface Slapd {
  url: string;
  /** Adds a person `uid=NAME,BASE` with the password `NAME-pw` (and AD attributes when given). */
  addPerson(uid: string, extra?: Record<string, string>): Promise<void>;
  /** Sets ppolicy's administrative lock on an account, as if someone had locked it by hand. */
  lock(uid: string): Promise<void>;
  canBind(uid: string): Promise<boolean>;
  /** One attribute of an entry, as text. */
  attribute(uid: string, name: string): Promise<string | undefined>;
  stop(): void;
}

export async function startSlapd(): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-slapd-'));
  mkdirSync(join(dir, 'db'));
  writeFileSync(
    join(dir, 'ad.schema'),
    [
      "attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
      "attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
      "objectclass ( 1.3.6.1.4.1.32473.1.1 NAME 'vigilTestAdUser' AUXILIARY MAY ( userAccountControl $ sAMAccountName ) )",
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `include ${join(dir, 'ad.schema')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload ppolicy',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${BASE}"`,
      `rootdn "${ADMIN}"`,
      `rootpw ${ADMIN_PASSWORD}`,
      `directory ${join(dir, 'db')}`,
      'overlay ppolicy',
      `ppolicy_default "cn=default,${BASE}"`,
    ].join('\n'),
  );
  const url = `ldap://127.0.0.1:${await freePort()}`;
  const daemon: ChildProcess = spawn('slapd', ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], {
    stdio: 'ignore',
  });
  const asAdmin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url });
    try {
      await client.bind(ADMIN, ADMIN_PASSWORD);
      return await work(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };
  for (let i = 0; ; i++) {
    try {
      await asAdmin(async () => undefined);
      break;
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await asAdmin(async (admin) => {
    await admin.add(BASE, { objectClass: ['dcObject', 'organization'], o: 'corp', dc: 'corp' });
    await admin.add(`cn=default,${BASE}`, {
      objectClass: ['pwdPolicy', 'device'],
      cn: 'default',
      pwdAttribute: 'userPassword',
      pwdLockout: 'TRUE',
    });
  });
  return {
    url,
    addPerson: (uid, extra = {}) =>
      asAdmin((admin) =>
        admin.add(`uid=${uid},${BASE}`, {
          objectClass: ['inetOrgPerson', 'vigilTestAdUser'],
          uid,
          cn: uid,
          sn: uid,
          userPassword: `${uid}-pw`,
          ...extra,
        }),
      ),
    lock: (uid) =>
      asAdmin((admin) =>
        admin.modify(
          `uid=${uid},${BASE}`,
          new Change({
            operation: 'replace',
            modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
          }),
        ),
      ),
    async canBind(uid) {
      const client = new Client({ url });
      try {
        await client.bind(`uid=${uid},${BASE}`, `${uid}-pw`);
        return true;
      } catch (error) {
        if (error instanceof InvalidCredentialsError) return false;
        throw error;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
    attribute: (uid, name) =>
      asAdmin(async (admin) => {
        const { searchEntries } = await admin.search(`uid=${uid},${BASE}`, {
          scope: 'base',
          attributes: [name],
        });
        const value = searchEntries[0]?.[name];
        return value === undefined ? undefined : String(value);
      }),
    stop() {
      daemon.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
