import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Detection, type DetectionSetup, hunt, loadDetectionSetup } from '../../src/detect/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/**
 * Sources with no public sample under a licence the project accepts (see the datasets README):
 * events written here from each product's documented export format, with the values a SigmaHQ
 * rule for that source looks for. The README's table names these sources.
 */
const SAMPLES: { name: string; source: string; rule: string; event: object }[] = [
  {
    // Okta System Log API, LogEvent object.
    name: 'okta-system-log.jsonl',
    source: 'okta/okta',
    rule: 'Okta User Account Locked Out',
    event: {
      uuid: '4f1c2c3a-1111-11ef-9b0a-1f2e3d4c5b6a',
      published: '2024-05-01T10:00:00.000Z',
      eventType: 'user.account.lock',
      version: '0',
      severity: 'WARN',
      displayMessage: 'Max sign in attempts exceeded',
      actor: { id: '00u1abcd', type: 'User', alternateId: 'alice@example.com', displayName: 'Alice' },
      client: { ipAddress: '203.0.113.7', userAgent: { rawUserAgent: 'curl/8.5.0' } },
      outcome: { result: 'FAILURE', reason: 'LOCKED_OUT' },
      target: [{ id: '00u1abcd', type: 'User', alternateId: 'alice@example.com', displayName: 'Alice' }],
    },
  },
  {
    // Entra ID sign-in log, Azure Monitor diagnostic settings export (category SignInLogs).
    name: 'entra-signin.json',
    source: 'azure/signinlogs',
    rule: 'Login to Disabled Account',
    event: {
      time: '2024-05-01T10:00:00.0000000Z',
      resourceId: '/tenants/00000000-0000-0000-0000-000000000001/providers/Microsoft.aadiam',
      operationName: 'Sign-in activity',
      category: 'SignInLogs',
      resultType: '50057',
      resultDescription: 'User account is disabled. The account has been disabled by an administrator.',
      callerIpAddress: '203.0.113.7',
      properties: {
        userPrincipalName: 'alice@example.com',
        appDisplayName: 'Azure Portal',
        status: { errorCode: 50057, failureReason: 'User account is disabled.' },
      },
    },
  },
  {
    // Azure Activity log, diagnostic settings export (category Administrative).
    name: 'azure-activity.json',
    source: 'azure/activitylogs',
    rule: 'Azure Virtual Network Modified or Deleted',
    event: {
      time: '2024-05-01T10:00:00Z',
      resourceId:
        '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000002/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET1',
      operationName: 'MICROSOFT.NETWORK/VIRTUALNETWORKS/DELETE',
      category: 'Administrative',
      resultType: 'Success',
      callerIpAddress: '203.0.113.7',
      properties: { statusCode: 'OK' },
    },
  },
  {
    // Microsoft 365 unified audit log, Office 365 Management Activity API record.
    name: 'm365-audit.json',
    source: 'm365/audit',
    rule: 'Disabling Multi Factor Authentication',
    event: {
      CreationTime: '2024-05-01T10:00:00',
      Id: '5b0e5f6e-2222-4a1b-9c3d-1a2b3c4d5e6f',
      Operation: 'Disable Strong Authentication.',
      OrganizationId: '00000000-0000-0000-0000-000000000001',
      RecordType: 8,
      ResultStatus: 'Success',
      UserType: 2,
      Workload: 'AzureActiveDirectory',
      ObjectId: 'bob@example.com',
      UserId: 'admin@example.com',
    },
  },
  {
    // Google Workspace admin audit log as Cloud Logging keeps it (LogEntry with an AuditLog payload).
    name: 'workspace-admin.json',
    source: 'gcp/google_workspace.admin',
    rule: 'Google Workspace User Granted Admin Privileges',
    event: {
      logName: 'organizations/123456789/logs/cloudaudit.googleapis.com%2Factivity',
      timestamp: '2024-05-01T10:00:00Z',
      resource: { type: 'audited_resource', labels: { service: 'admin.googleapis.com' } },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'admin.googleapis.com',
        methodName: 'google.admin.AdminService.grantAdminPrivilege',
        authenticationInfo: { principalEmail: 'admin@example.com' },
        metadata: {
          event: [
            {
              eventType: 'DELEGATED_ADMIN_SETTINGS',
              eventName: 'GRANT_ADMIN_PRIVILEGE',
              parameter: [{ name: 'USER_EMAIL', value: 'bob@example.com', type: 'TYPE_STRING' }],
            },
          ],
        },
      },
    },
  },
  {
    // Kubernetes API server audit log (audit.k8s.io/v1 Event, as the log backend writes it).
    name: 'kube-audit.jsonl',
    source: 'kubernetes/audit',
    rule: 'Potential Remote Command Execution In Pod Container',
    event: {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Request',
      auditID: '7d3c1b2a-3333-4c5d-8e9f-0a1b2c3d4e5f',
      stage: 'ResponseStarted',
      requestURI: '/api/v1/namespaces/default/pods/web-0/exec?command=sh&container=web&stdin=true&tty=true',
      verb: 'create',
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      sourceIPs: ['203.0.113.7'],
      userAgent: 'kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f',
      objectRef: {
        resource: 'pods',
        namespace: 'default',
        name: 'web-0',
        apiVersion: 'v1',
        subresource: 'exec',
      },
      responseStatus: { metadata: {}, code: 101 },
      requestReceivedTimestamp: '2024-05-01T10:00:00.000000Z',
      stageTimestamp: '2024-05-01T10:00:00.100000Z',
    },
  },
  {
    // systemd journal, `journalctl -o json` (one entry per line).
    name: 'journal.json',
    source: 'linux/sshd',
    rule: 'Suspicious OpenSSH Daemon Error',
    event: {
      __REALTIME_TIMESTAMP: '1714557600000000',
      _HOSTNAME: 'web1',
      SYSLOG_IDENTIFIER: 'sshd',
      SYSLOG_FACILITY: '4',
      PRIORITY: '3',
      _PID: '4242',
      _SYSTEMD_UNIT: 'ssh.service',
      MESSAGE: 'error: Corrupted MAC on input. [preauth]',
    },
  },
];

describe.skipIf(!hasContent)('sources without a public sample, from their documented formats', () => {
  let setup: DetectionSetup;
  let dir: string;
  const options = () => ({
    rules: ['cloud', 'identity', 'application', 'linux'].map((folder) =>
      contentPath('sigma', 'rules', folder),
    ),
  });

  beforeAll(async () => {
    setup = await loadDetectionSetup(options());
    dir = await mkdtemp(join(tmpdir(), 'vigil-documented-'));
    for (const sample of SAMPLES) await writeFile(join(dir, sample.name), JSON.stringify(sample.event));
  }, 60_000);

  it.each(SAMPLES.map((s) => [s.name, s.source, s.rule, s] as const))(
    '%s is recognized as %s and "%s" fires',
    async (_name, source, rule, sample) => {
      const detections: Detection[] = [];
      const summary = await hunt([join(dir, sample.name)], {
        setup: options(),
        loaded: setup,
        onDetection: (d) => detections.push(d),
      });
      expect(summary.bySource).toEqual([{ key: source, count: 1 }]);
      expect(detections.map((d) => d.rule.title)).toContain(rule);
    },
  );
});
