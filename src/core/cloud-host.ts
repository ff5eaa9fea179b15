import type { FieldValue } from './event.js';

/**
 * A host for events of cloud and SaaS services, which name no machine: the account, subscription,
 * project or tenant the event happened in (and the region, where the service names one), so the
 * alerts of one account group together. Named `<service>/<id>[/<region>]`: `aws/123456789012/eu-west-1`,
 * `azure/<subscription>`, `entra/<tenant>`, `gcp/<project>/<location>`, `gcp/storage/<bucket>`,
 * `m365/<organization>`, `okta/<domain>`.
 */
export function cloudHost(fields: Record<string, FieldValue>): string | undefined {
  for (const rule of RULES) {
    const host = rule(fields);
    if (host !== undefined) return host;
  }
  return undefined;
}

function text(value: FieldValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function joined(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined).join('/');
}

const RULES: ((fields: Record<string, FieldValue>) => string | undefined)[] = [
  // AWS CloudTrail: the account the event was delivered to (the one acted on), and its region.
  (f) => {
    const account = text(f.recipientAccountId) ?? text(f['userIdentity.accountId']);
    const region = text(f.awsRegion);
    return account && (region || text(f.eventSource)) ? joined('aws', account, region) : undefined;
  },
  // Azure Activity: the subscription its resource id names (diagnostic export, Sentinel).
  (f) => {
    const subscription =
      text(f.SubscriptionId) ??
      /^\/subscriptions\/([^/]+)/i.exec(text(f.resourceId) ?? text(f.ResourceId) ?? '')?.[1];
    return subscription ? joined('azure', subscription.toLowerCase()) : undefined;
  },
  // Microsoft 365: the organization (unified audit log; message trace's tenant domain).
  (f) => {
    const organization =
      text(f.OrganizationId) ?? (text(f.MessageTraceId) ? text(f.Organization) : undefined);
    return organization ? joined('m365', organization.toLowerCase()) : undefined;
  },
  // Entra ID: the tenant (diagnostic export `tenantId` or its `/tenants/…` resource id; Sentinel).
  (f) => {
    const tenant =
      text(f.tenantId) ??
      text(f.AADTenantId) ??
      /^\/tenants\/([^/]+)/i.exec(text(f.resourceId) ?? '')?.[1] ??
      (text(f.OperationName) || text(f.ResultType) ? text(f.TenantId) : undefined);
    return tenant ? joined('entra', tenant.toLowerCase()) : undefined;
  },
  // Google Cloud: the project (its resource's label, or the log's name), and the location when given.
  (f) => {
    const logName = text(f.logName);
    if (!logName) return undefined;
    const project = text(f['resource.labels.project_id']) ?? /^projects\/([^/]+)\//.exec(logName)?.[1];
    if (project) {
      const location =
        text(f['resource.labels.location']) ??
        text(f['resource.labels.region']) ??
        text(f['resource.labels.zone']);
      return joined('gcp', project, location);
    }
    // Google Workspace and organization-level audit logs.
    const organization = /^organizations\/([^/]+)\//.exec(logName)?.[1];
    return organization ? joined('gcp', 'organizations', organization) : undefined;
  },
  // Cloud Storage usage and storage logs: the bucket.
  (f) => {
    const bucket = text(f.cs_bucket) ?? (f.storage_byte_hours !== undefined ? text(f.bucket) : undefined);
    return bucket ? joined('gcp', 'storage', bucket) : undefined;
  },
  // Okta: the System Log names no org; the actor's login domain is the org's own, as a rule.
  (f) => {
    if (!text(f.eventType) || !text(f.published) || text(f['actor.alternateId']) === undefined)
      return undefined;
    const domain = /@([^@\s]+)$/.exec(text(f['actor.alternateId'])!)?.[1];
    return joined('okta', domain?.toLowerCase());
  },
];
