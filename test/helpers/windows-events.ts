/**
 * Windows Security events in the nested `evtx_dump` shape, for tests that send or hunt their own
 * authentication events (failed logons, lockouts ...).
 */
export interface SecurityEvent {
  id: number;
  /** Event time, ms since the epoch. */
  at: number;
  record: number;
  host?: string;
  data: Record<string, string | number>;
}

export function securityEvent({ id, at, record, host = 'dc1.corp.example', data }: SecurityEvent): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
        EventID: id,
        EventRecordID: record,
        Channel: 'Security',
        Computer: host,
        TimeCreated: { '#attributes': { SystemTime: new Date(at).toISOString() } },
      },
      EventData: data,
    },
  });
}

/** `count` failed network logons (4625) of one account from one address, `stepMs` apart: a brute force. */
export function failedLogons(
  count: number,
  options: { user?: string; ip: string; start?: string; stepMs?: number; firstRecord?: number },
): string[] {
  const start = Date.parse(options.start ?? '2026-03-01T08:00:00Z');
  return Array.from({ length: count }, (_, i) =>
    securityEvent({
      id: 4625,
      at: start + i * (options.stepMs ?? 10_000),
      record: (options.firstRecord ?? 500) + i,
      data: {
        TargetUserName: options.user ?? 'alice',
        IpAddress: options.ip,
        LogonType: 3,
        SubStatus: '0xc000006a',
      },
    }),
  );
}
