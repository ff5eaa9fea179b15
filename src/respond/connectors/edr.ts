import type { ActionResult, Connector, RunOptions } from './connector.js';
import { TransientFailure } from './connector.js';

/**
 * Host isolation through an EDR's documented API, with OAuth2 client credentials:
 * - Microsoft Defender for Endpoint: a token from Entra ID for `https://api.securitycenter.microsoft.com/.default`,
 *   the machine found by `computerDnsName`, then `POST /api/machines/{id}/isolate` (`unisolate` to undo);
 * - CrowdStrike Falcon: a token from `/oauth2/token`, the device found by `hostname`, then
 *   `POST /devices/entities/devices-actions/v2?action_name=contain` (`lift_containment` to undo).
 * Neither was run against the vendor here: the tests check each request against the documented shape.
 */
export interface EdrConfig {
  product: 'defender' | 'crowdstrike';
  clientId: string;
  clientSecret: string;
  /** Defender: the Entra ID tenant the application is registered in. */
  tenantId?: string;
  /** The API's base URL (Defender: https://api.securitycenter.microsoft.com; Falcon: the cloud's, e.g. https://api.crowdstrike.com). */
  apiUrl: string;
  /** Where tokens come from (Defender: https://login.microsoftonline.com; Falcon: the API itself). */
  loginUrl: string;
}

export const EDR_DEFAULTS = {
  defender: {
    apiUrl: 'https://api.securitycenter.microsoft.com',
    loginUrl: 'https://login.microsoftonline.com',
  },
  crowdstrike: { apiUrl: 'https://api.crowdstrike.com', loginUrl: 'https://api.crowdstrike.com' },
} as const;

/** Vendors answer 429 and 5xx when busy: worth another try; anything else will fail again. */
async function checked(response: Response, what: string): Promise<Response> {
  if (response.ok) return response;
  const text = (await response.text()).slice(0, 300);
  const message = `${what}: HTTP ${response.status} ${text}`;
  throw response.status === 429 || response.status >= 500
    ? new TransientFailure(message)
    : new Error(message);
}

/** A request that could not be made (refused, reset, timed out) may be made later; an answer is judged by `checked`. */
async function send(url: string, init: RequestInit, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new TransientFailure(`${what}: ${cause}`);
  }
  return checked(response, what);
}

export class EdrConnector implements Connector {
  readonly capability = 'edr';
  private token: { value: string; until: number } | undefined;

  constructor(private readonly config: EdrConfig) {}

  get target(): string {
    return `${this.config.product === 'defender' ? 'Microsoft Defender for Endpoint' : 'CrowdStrike Falcon'} ${new URL(this.config.apiUrl).host}`;
  }

  describe(_action: string, params: Readonly<Record<string, string>>): string {
    return this.config.product === 'defender'
      ? `GET ${this.config.apiUrl}/api/machines?$filter=computerDnsName eq '${params.host}', then POST ${this.config.apiUrl}/api/machines/{id}/isolate {"IsolationType":"Full"}`
      : `GET ${this.config.apiUrl}/devices/queries/devices/v1?filter=hostname:'${params.host}', then POST ${this.config.apiUrl}/devices/entities/devices-actions/v2?action_name=contain`;
  }

  private async bearer(signal: AbortSignal): Promise<string> {
    if (this.token && this.token.until > Date.now() + 60_000) return this.token.value;
    const c = this.config;
    const form = new URLSearchParams({ client_id: c.clientId, client_secret: c.clientSecret });
    let url: string;
    if (c.product === 'defender') {
      url = `${c.loginUrl}/${encodeURIComponent(c.tenantId ?? '')}/oauth2/v2.0/token`;
      form.set('grant_type', 'client_credentials');
      form.set('scope', `${c.apiUrl}/.default`);
    } else url = `${c.loginUrl}/oauth2/token`;
    const response = await send(
      url,
      { method: 'POST', body: form, headers: { accept: 'application/json' }, signal },
      'token request',
    );
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error('token request: the answer has no access_token');
    this.token = { value: body.access_token, until: Date.now() + (body.expires_in ?? 300) * 1000 };
    return body.access_token;
  }

  private async api(path: string, init: RequestInit, what: string): Promise<unknown> {
    const token = await this.bearer(init.signal!);
    const response = await send(
      `${this.config.apiUrl}${path}`,
      {
        ...init,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
      },
      what,
    );
    return response.status === 204 ? {} : response.json();
  }

  /** The EDR's id of a host: exactly one, or a refusal that names the host. */
  private async deviceOf(host: string, signal: AbortSignal): Promise<string> {
    const quoted = host.replace(/'/g, "''");
    const ids =
      this.config.product === 'defender'
        ? (
            (await this.api(
              `/api/machines?$filter=${encodeURIComponent(`computerDnsName eq '${quoted.toLowerCase()}'`)}`,
              { method: 'GET', signal },
              `find ${host}`,
            )) as { value?: { id: string }[] }
          ).value?.map((m) => m.id)
        : (
            (await this.api(
              `/devices/queries/devices/v1?filter=${encodeURIComponent(`hostname:'${quoted}'`)}`,
              { method: 'GET', signal },
              `find ${host}`,
            )) as { resources?: string[] }
          ).resources;
    if (!ids?.length) throw new Error(`${this.target} knows no host named '${host}'`);
    if (ids.length > 1)
      throw new Error(`${this.target} has ${ids.length} hosts named '${host}'; refusing to guess`);
    return ids[0]!;
  }

  private async contain(host: string, on: boolean, signal: AbortSignal, comment: string): Promise<string> {
    const id = await this.deviceOf(host, signal);
    if (this.config.product === 'defender') {
      await this.api(
        `/api/machines/${encodeURIComponent(id)}/${on ? 'isolate' : 'unisolate'}`,
        {
          method: 'POST',
          body: JSON.stringify(on ? { Comment: comment, IsolationType: 'Full' } : { Comment: comment }),
          signal,
        },
        `${on ? 'isolate' : 'release'} ${host}`,
      );
    } else {
      await this.api(
        `/devices/entities/devices-actions/v2?action_name=${on ? 'contain' : 'lift_containment'}`,
        { method: 'POST', body: JSON.stringify({ ids: [id] }), signal },
        `${on ? 'contain' : 'release'} ${host}`,
      );
    }
    return id;
  }

  async run(
    action: string,
    params: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<ActionResult> {
    if (action !== 'isolate_host') throw new Error(`an EDR cannot ${action} here`);
    const id = await this.contain(params.host!, true, options.signal, `Vigil response ${options.key}`);
    return { result: `${params.host} (${id}) isolated by ${this.target}`, kept: { device: id } };
  }

  async revert(
    action: string,
    params: Readonly<Record<string, string>>,
    _kept: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<string> {
    if (action !== 'isolate_host') throw new Error(`an EDR cannot undo ${action} here`);
    const id = await this.contain(params.host!, false, options.signal, `Vigil release ${options.key}`);
    return `${params.host} (${id}) released by ${this.target}`;
  }
}
