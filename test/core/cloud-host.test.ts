import { describe, expect, it } from 'vitest';
import { eventHost, type FieldValue } from '../../src/core/index.js';

const host = (fields: Record<string, FieldValue>) => eventHost({ fields, source: { file: 'x', record: 1 } });

describe('a host for cloud events', () => {
  it('names the account, subscription, project or tenant', () => {
    expect(
      host({ eventSource: 's3.amazonaws.com', recipientAccountId: '123456789012', awsRegion: 'eu-west-1' }),
    ).toBe('aws/123456789012/eu-west-1');
    expect(host({ eventSource: 'iam.amazonaws.com', 'userIdentity.accountId': '123456789012' })).toBe(
      'aws/123456789012',
    );
    // Sentinel's AzureActivity, and the diagnostic export's resource id.
    expect(host({ SubscriptionId: 'ABC', TenantId: 't' })).toBe('azure/abc');
    expect(host({ resourceId: '/SUBSCRIPTIONS/ABC/RESOURCEGROUPS/RG', operationName: 'x' })).toBe(
      'azure/abc',
    );
    expect(host({ resourceId: '/tenants/T1/providers/Microsoft.aadiam', category: 'SignInLogs' })).toBe(
      'entra/t1',
    );
    expect(host({ OperationName: 'Add user', TenantId: 'T2' })).toBe('entra/t2');
    expect(host({ OrganizationId: 'ORG', Workload: 'Exchange' })).toBe('m365/org');
    expect(host({ MessageTraceId: 'm', Organization: 'contoso.onmicrosoft.com' })).toBe(
      'm365/contoso.onmicrosoft.com',
    );
    expect(
      host({
        logName: 'projects/p1/logs/cloudaudit.googleapis.com%2Factivity',
        'resource.labels.zone': 'us-east1-b',
      }),
    ).toBe('gcp/p1/us-east1-b');
    expect(
      host({ eventType: 'user.session.start', published: '2024', 'actor.alternateId': 'a@Example.com' }),
    ).toBe('okta/example.com');
    expect(host({ eventType: 'system.x', published: '2024', 'actor.alternateId': 'system' })).toBe('okta');
  });

  it('a host field the event has comes first; other events have none', () => {
    expect(host({ Computer: 'dc1', recipientAccountId: '1', awsRegion: 'r' })).toBe('dc1');
    expect(host({ 'server-hostname': 'EX01', 'event-id': 'SEND' })).toBe('EX01');
    expect(host({ message: 'hello', Organization: 'not a trace' })).toBeUndefined();
  });
});
