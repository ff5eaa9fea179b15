import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { readYamlDocuments, VigilError } from '../../core/index.js';
import type { Connector } from './connector.js';
import { EDR_DEFAULTS, EdrConnector } from './edr.js';
import { LdapConnector } from './ldap.js';
import { NftablesConnector } from './nftables.js';
import { defaultReload, RpzConnector } from './rpz.js';
import { SmtpConnector } from './smtp.js';
import { WebhookConnector } from './webhook.js';

/**
 * `connectors.yml`: which product carries out each capability. Secrets are never written in it:
 * they come from an environment variable (`*_env`) or a file only the service's user can read
 * (`*_file`).
 */
const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a name of letters, digits and _');
const mailbox = z.string().regex(/^[^\s<>@,;"]+@[^\s<>@,;"]+$/, 'a mail address such as soc@corp.example');
const schema = z.strictObject({
  firewall: z
    .strictObject({
      type: z.literal('nftables'),
      family: z.enum(['inet', 'ip', 'ip6']).optional(),
      table: name.optional(),
      set_v4: name.optional(),
      set_v6: name.optional(),
      manage: z.boolean().optional(),
      nft: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    })
    .optional(),
  dns: z
    .strictObject({
      type: z.literal('rpz'),
      server: z.enum(['unbound', 'bind']),
      zone: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, 'a zone name such as rpz.vigil'),
      zone_file: z.string().startsWith('/', 'an absolute path'),
      control_config: z.string().optional(),
      reload: z.array(z.string()).min(1).optional(),
    })
    .optional(),
  directory: z
    .strictObject({
      type: z.literal('ldap'),
      url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/, 'ldap://HOST[:PORT] or ldaps://HOST[:PORT]'),
      kind: z.enum(['active-directory', 'openldap']),
      base_dn: z.string().min(1),
      bind_dn: z.string().min(1),
      bind_password_env: z.string().optional(),
      bind_password_file: z.string().optional(),
      user_attribute: z.string().optional(),
      ca: z.string().optional(),
    })
    .optional(),
  edr: z
    .strictObject({
      type: z.enum(['defender', 'crowdstrike']),
      client_id: z.string().min(1),
      client_secret_env: z.string().optional(),
      client_secret_file: z.string().optional(),
      tenant_id: z.string().optional(),
      api_url: z.string().url().optional(),
      login_url: z.string().url().optional(),
    })
    .optional(),
  email: z
    .strictObject({
      type: z.literal('smtp'),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      security: z.enum(['starttls', 'tls', 'none']).optional(),
      from: mailbox,
      to: z.array(mailbox).min(1),
      username: z.string().optional(),
      password_env: z.string().optional(),
      password_file: z.string().optional(),
      ca: z.string().optional(),
    })
    .optional(),
  notify: z
    .strictObject({
      type: z.literal('webhook'),
      url: z.string().url().optional(),
      url_env: z.string().optional(),
      format: z.enum(['json', 'slack', 'teams']).optional(),
      hmac_secret_env: z.string().optional(),
      hmac_secret_file: z.string().optional(),
      tls: z
        .strictObject({ cert: z.string().optional(), key: z.string().optional(), ca: z.string().optional() })
        .optional(),
    })
    .optional(),
});

function secretFile(path: string, field: string, file: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new VigilError('CONNECTOR_SECRET', `cannot read ${path}: ${(error as Error).message}`, {
      file,
      field,
    });
  }
  if (mode & 0o077)
    throw new VigilError('CONNECTOR_SECRET', `${path} can be read by others than its owner; chmod 600 it`, {
      file,
      field,
    });
  return readFileSync(path, 'utf8').trim();
}

function secretEnv(variable: string, field: string, file: string, env: NodeJS.ProcessEnv): string {
  const value = env[variable];
  if (!value)
    throw new VigilError('CONNECTOR_SECRET', `the environment variable ${variable} is not set`, {
      file,
      field,
    });
  return value;
}

/** A file the configuration names (a CA, a client certificate), or an error naming the key. */
function configFile(path: string, field: string, file: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new VigilError('CONNECTORS_INVALID', `cannot read ${path}: ${(error as Error).message}`, {
      file,
      field,
    });
  }
}

/** The connectors a configuration file sets up, by capability. */
export function readConnectors(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, Connector> {
  const [document] = readYamlDocuments(text, file, 'CONNECTORS_INVALID');
  const parsed = schema.safeParse(document?.data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VigilError('CONNECTORS_INVALID', issue.message, {
      file,
      line: document?.lineOf(issue.path),
      field: issue.path.join('.'),
    });
  }
  const c = parsed.data;
  const out = new Map<string, Connector>();
  /** A secret given as `NAME_env` or `NAME_file` of a section, or undefined when neither is. */
  const secret = (section: string, name: string, given: { env?: string; file?: string }) =>
    given.env !== undefined
      ? secretEnv(given.env, `${section}.${name}_env`, file, env)
      : given.file !== undefined
        ? secretFile(given.file, `${section}.${name}_file`, file)
        : undefined;
  const required = (value: string | undefined, section: string, needs: string): string => {
    if (value === undefined) throw new VigilError('CONNECTORS_INVALID', needs, { file, field: section });
    return value;
  };
  const pem = (path: string | undefined, field: string) =>
    path === undefined ? undefined : configFile(path, field, file);
  if (c.firewall)
    out.set(
      'firewall',
      new NftablesConnector({
        family: c.firewall.family ?? 'inet',
        table: c.firewall.table ?? 'vigil',
        setV4: c.firewall.set_v4 ?? 'blocked_v4',
        setV6: c.firewall.set_v6 ?? 'blocked_v6',
        manage: c.firewall.manage ?? true,
        nft: typeof c.firewall.nft === 'string' ? [c.firewall.nft] : (c.firewall.nft ?? ['nft']),
      }),
    );
  if (c.dns)
    out.set(
      'dns',
      new RpzConnector({
        zone: c.dns.zone.replace(/\.$/, ''),
        zoneFile: c.dns.zone_file,
        reload: c.dns.reload ?? defaultReload(c.dns.server, c.dns.control_config),
      }),
    );
  if (c.directory) {
    const d = c.directory;
    const password = required(
      secret('directory', 'bind_password', { env: d.bind_password_env, file: d.bind_password_file }),
      'directory',
      'an LDAP directory needs bind_password_env or bind_password_file',
    );
    out.set(
      'directory',
      new LdapConnector({
        url: d.url,
        kind: d.kind,
        baseDn: d.base_dn,
        bindDn: d.bind_dn,
        bindPassword: password,
        userAttribute: d.user_attribute ?? (d.kind === 'active-directory' ? 'sAMAccountName' : 'uid'),
        ca: pem(d.ca, 'directory.ca'),
      }),
    );
  }
  if (c.edr) {
    const e = c.edr;
    const clientSecret = required(
      secret('edr', 'client_secret', { env: e.client_secret_env, file: e.client_secret_file }),
      'edr',
      'an EDR needs client_secret_env or client_secret_file',
    );
    if (e.type === 'defender' && !e.tenant_id)
      throw new VigilError('CONNECTORS_INVALID', 'Defender for Endpoint needs tenant_id', {
        file,
        field: 'edr',
      });
    const trim = (url: string) => url.replace(/\/+$/, '');
    out.set(
      'edr',
      new EdrConnector({
        product: e.type,
        clientId: e.client_id,
        clientSecret,
        tenantId: e.tenant_id,
        apiUrl: trim(e.api_url ?? EDR_DEFAULTS[e.type].apiUrl),
        loginUrl: trim(e.login_url ?? EDR_DEFAULTS[e.type].loginUrl),
      }),
    );
  }
  if (c.email) {
    const m = c.email;
    const security = m.security ?? 'starttls';
    out.set(
      'email',
      new SmtpConnector({
        host: m.host,
        port: m.port ?? (security === 'tls' ? 465 : security === 'starttls' ? 587 : 25),
        security,
        from: m.from,
        to: m.to,
        username: m.username,
        password: secret('email', 'password', { env: m.password_env, file: m.password_file }),
        ca: pem(m.ca, 'email.ca'),
      }),
    );
  }
  if (c.notify) {
    const n = c.notify;
    const url = required(
      n.url ?? secret('notify', 'url', { env: n.url_env }),
      'notify',
      'a webhook needs url or url_env',
    );
    out.set(
      'notify',
      new WebhookConnector({
        url,
        format: n.format ?? 'json',
        hmacSecret: secret('notify', 'hmac_secret', { env: n.hmac_secret_env, file: n.hmac_secret_file }),
        tls: n.tls && {
          cert: pem(n.tls.cert, 'notify.tls.cert'),
          key: pem(n.tls.key, 'notify.tls.key'),
          ca: pem(n.tls.ca, 'notify.tls.ca'),
        },
      }),
    );
  }
  return out;
}

/** Reads `connectors.yml`; an absent file means no connector, so every step stays a plan. */
export function loadConnectors(file: string, env: NodeJS.ProcessEnv = process.env): Map<string, Connector> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new VigilError('CONNECTORS_INVALID', `cannot read: ${(error as Error).message}`, { file });
  }
  return readConnectors(text, file, env);
}
