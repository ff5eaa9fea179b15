import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  carryOut,
  parsePlaybooks,
  planFor,
  readConnectors,
  revert,
} from '../../src/respond/index.js';
import { freePort } from '../helpers/system.js';

/**
 * The directory connector against a real OpenLDAP `slapd` started by the test: with the ppolicy
 * overlay, a locked account cannot bind until the lock is lifted. The Active Directory way (the
 * ACCOUNTDISABLE bit of userAccountControl) is run against the same server with those two AD
 * attributes added to its schema: slapd does not refuse such an account's bind, so that test reads
 * the attribute instead.
 */

const hasSlapd = spawnSync('slapd', ['-VV']).error === undefined;
if (!hasSlapd) console.warn('\n*** slapd is not installed (Debian slapd): directory tests SKIPPED ***\n');

const BASE = 'dc=corp,dc=example';
const ADMIN = `cn=admin,${BASE}`;

async function canBind(url: string, dn: string, password: string): Promise<boolean> {
  const client = new Client({ url });
  try {
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

describe.skipIf(!hasSlapd)('directory connector (slapd)', () => {
  let dir: string;
  let slapd: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-slapd-'));
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
        'rootpw secret',
        `directory ${join(dir, 'db')}`,
        'overlay ppolicy',
        `ppolicy_default "cn=default,${BASE}"`,
      ].join('\n'),
    );
    url = `ldap://127.0.0.1:${await freePort()}`;
    slapd = spawn('slapd', ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], { stdio: 'ignore' });
    const admin = new Client({ url });
    for (let i = 0; ; i++) {
      try {
        await admin.bind(ADMIN, 'secret');
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await admin.add(BASE, { objectClass: ['dcObject', 'organization'], o: 'corp', dc: 'corp' });
    await admin.add(`cn=default,${BASE}`, {
      objectClass: ['pwdPolicy', 'device'],
      cn: 'default',
      pwdAttribute: 'userPassword',
      pwdLockout: 'TRUE',
    });
    const person = (uid: string, extra: Record<string, string | string[]> = {}) =>
      admin.add(`uid=${uid},${BASE}`, {
        objectClass: ['inetOrgPerson', 'vigilTestAdUser'],
        uid,
        cn: uid,
        sn: uid,
        userPassword: `${uid}-pw`,
        ...extra,
      });
    await person('alice');
    await person('bob');
    await admin.modify(
      `uid=bob,${BASE}`,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
      }),
    );
    await person('carol', { sAMAccountName: 'carol', userAccountControl: '512' });
    await person('dave', { sAMAccountName: 'dave', userAccountControl: '514' });
    await admin.unbind();
  }, 30_000);

  afterAll(() => {
    slapd?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectors = (kind: string) =>
    readConnectors(
      `directory:\n  type: ldap\n  url: ${url}\n  kind: ${kind}\n  base_dn: ${BASE}\n  bind_dn: ${ADMIN}\n  bind_password_env: LDAP_PW\n`,
      'connectors.yml',
      { LDAP_PW: 'secret' },
    );

  const alert = (user: string): AlertFacts => ({
    id: 42,
    tenant: 'acme',
    rule: { id: null, title: 'Successful Windows Logon After Repeated Failures', level: 'high' },
    host: 'dc1.corp.example',
    techniques: ['T1110', 'T1078'],
    tactics: ['credential-access'],
    fields: { TargetUserName: user },
  });
  const [playbook] = parsePlaybooks(
    `name: disable-account
mode: approval
trigger: { techniques: [T1078] }
inputs:
  user: { type: account, from: [fields.TargetUserName] }
steps:
  - name: disable
    action: directory.disable_account
    with: { account: '{{ user }}' }
    ttl: 8h
`,
    'disable.yml',
  ).playbooks;

  it('OpenLDAP: an approved disable stops the account binding; the revert lets it bind again', async () => {
    const dn = `uid=alice,${BASE}`;
    expect(await canBind(url, dn, 'alice-pw')).toBe(true);
    const c = connectors('openldap');
    const [waiting] = await carryOut(planFor(playbook!, alert('alice')), { connectors: c });
    expect(waiting).toMatchObject({ state: 'awaiting-approval' });
    expect(waiting!.request).toContain('(uid=alice)');
    expect(await canBind(url, dn, 'alice-pw')).toBe(true);

    const [done] = await carryOut(planFor(playbook!, alert('alice')), { connectors: c, approval: true });
    expect(done).toMatchObject({
      state: 'done',
      result: `${dn} locked (pwdAccountLockedTime 000001010000Z)`,
    });
    expect(await canBind(url, dn, 'alice-pw')).toBe(false);

    expect(await revert(done!, { connectors: c })).toMatchObject({ result: `${dn} unlocked` });
    expect(await canBind(url, dn, 'alice-pw')).toBe(true);
  });

  it('an account locked before Vigil acted stays locked after the revert', async () => {
    const c = connectors('openldap');
    const [done] = await carryOut(planFor(playbook!, alert('bob')), { connectors: c, approval: true });
    expect(done).toMatchObject({ state: 'done', result: `uid=bob,${BASE} was locked already` });
    expect(await revert(done!, { connectors: c })).toMatchObject({
      result: expect.stringContaining('left disabled'),
    });
    expect(await canBind(url, `uid=bob,${BASE}`, 'bob-pw')).toBe(false);
  });

  it('an unknown account, or a filter injection attempt, fails at once without being retried', async () => {
    const c = connectors('openldap');
    for (const user of ['nobody', 'x)(uid=*']) {
      const [failed] = await carryOut(planFor(playbook!, alert(user)), {
        connectors: c,
        approval: true,
        backoffMs: 10,
      });
      expect(failed).toMatchObject({
        state: 'failed',
        attempts: 1,
        error: expect.stringContaining('is not in'),
      });
    }
    expect(await canBind(url, `uid=alice,${BASE}`, 'alice-pw')).toBe(true);
  });

  it('Active Directory: sets the ACCOUNTDISABLE bit and clears it on revert, leaving an account disabled before as it was', async () => {
    const c = connectors('active-directory');
    const flags = async (uid: string) => {
      const admin = new Client({ url });
      await admin.bind(ADMIN, 'secret');
      const { searchEntries } = await admin.search(`uid=${uid},${BASE}`, {
        scope: 'base',
        attributes: ['userAccountControl'],
      });
      await admin.unbind();
      return Number(searchEntries[0]!.userAccountControl);
    };
    // As Windows events name it: DOMAIN\\user.
    const [done] = await carryOut(planFor(playbook!, alert('CORP\\carol')), {
      connectors: c,
      approval: true,
    });
    expect(done).toMatchObject({
      state: 'done',
      result: expect.stringContaining('userAccountControl 512 -> 514'),
    });
    expect(await flags('carol')).toBe(514);
    await revert(done!, { connectors: c });
    expect(await flags('carol')).toBe(512);

    const [already] = await carryOut(planFor(playbook!, alert('dave')), { connectors: c, approval: true });
    expect(already!.result).toContain('disabled already');
    await revert(already!, { connectors: c });
    expect(await flags('dave')).toBe(514);
  });

  it('a directory that does not answer is retried, then the step fails with the reason', async () => {
    const c = readConnectors(
      `directory:\n  type: ldap\n  url: ldap://127.0.0.1:${await freePort()}\n  kind: openldap\n  base_dn: ${BASE}\n  bind_dn: ${ADMIN}\n  bind_password_env: LDAP_PW\n`,
      'c.yml',
      { LDAP_PW: 'secret' },
    );
    const [failed] = await carryOut(planFor(playbook!, alert('alice')), {
      connectors: c,
      approval: true,
      backoffMs: 10,
    });
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 3,
      error: expect.stringContaining('ECONNREFUSED'),
    });
  });
});
