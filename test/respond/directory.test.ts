import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  carryOut,
  parsePlaybooks,
  planFor,
  readConnectors,
  revert,
} from '../../src/respond/index.js';
import { ADMIN, BASE, hasSlapd, type Slapd, startSlapd } from '../helpers/slapd.js';
import { freePort } from '../helpers/system.js';

/**
 * The directory connector against a real OpenLDAP `slapd` started by the test: with the ppolicy
 * overlay, a locked account cannot bind until the lock is lifted. The Active Directory way (the
 * ACCOUNTDISABLE bit of userAccountControl) is run against the same server with those two AD
 * attributes added to its schema: slapd does not refuse such an account's bind, so that test reads
 * the attribute instead.
 */

if (!hasSlapd) console.warn('\n*** slapd is not installed (Debian slapd): directory tests SKIPPED ***\n');

describe.skipIf(!hasSlapd)('directory connector (slapd)', () => {
  let slapd: Slapd;
  let url: string;

  beforeAll(async () => {
    slapd = await startSlapd();
    url = slapd.url;
    await slapd.addPerson('alice');
    await slapd.addPerson('bob');
    await slapd.lock('bob');
    await slapd.addPerson('carol', { sAMAccountName: 'carol', userAccountControl: '512' });
    await slapd.addPerson('dave', { sAMAccountName: 'dave', userAccountControl: '514' });
  }, 30_000);

  afterAll(() => slapd?.stop());

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
    expect(await slapd.canBind('alice')).toBe(true);
    const c = connectors('openldap');
    const [waiting] = await carryOut(planFor(playbook!, alert('alice')), { connectors: c });
    expect(waiting).toMatchObject({ state: 'awaiting-approval' });
    expect(waiting!.request).toContain('(uid=alice)');
    expect(await slapd.canBind('alice')).toBe(true);

    const [done] = await carryOut(planFor(playbook!, alert('alice')), { connectors: c, approval: true });
    expect(done).toMatchObject({
      state: 'done',
      result: `${dn} locked (pwdAccountLockedTime 000001010000Z)`,
    });
    expect(await slapd.canBind('alice')).toBe(false);

    expect(await revert(done!, { connectors: c })).toMatchObject({ result: `${dn} unlocked` });
    expect(await slapd.canBind('alice')).toBe(true);
  });

  it('an account locked before Vigil acted stays locked after the revert', async () => {
    const c = connectors('openldap');
    const [done] = await carryOut(planFor(playbook!, alert('bob')), { connectors: c, approval: true });
    expect(done).toMatchObject({ state: 'done', result: `uid=bob,${BASE} was locked already` });
    expect(await revert(done!, { connectors: c })).toMatchObject({
      result: expect.stringContaining('left disabled'),
    });
    expect(await slapd.canBind('bob')).toBe(false);
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
    expect(await slapd.canBind('alice')).toBe(true);
  });

  it('Active Directory: sets the ACCOUNTDISABLE bit and clears it on revert, leaving an account disabled before as it was', async () => {
    const c = connectors('active-directory');
    const flags = async (uid: string) => Number(await slapd.attribute(uid, 'userAccountControl'));
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
