/**
 * Which event fields each kind of indicator is looked for in, by what the field holds. Names are
 * compared without case and cover Windows (Sysmon and Security), ECS (Elastic, and what the JSON
 * reader flattens nested objects to), Zeek and Suricata, web proxy (W3C) and cloud sign-in logs.
 * The README's "Fields matched" section is this table in prose: keep them together.
 */
export type FieldRole =
  /** An IP address (exact, or inside an indicator's network). */
  | 'address'
  /** A host name: a listed domain or any subdomain of it, or an address. */
  | 'host'
  /** A URL: listed URLs and domains inside it. */
  | 'url'
  /** Free text (command lines, scripts): listed URLs and domains inside it. */
  | 'text'
  /** One hash, or a list of them (Sysmon's `SHA1=…,MD5=…,SHA256=…`). */
  | 'hash'
  /** An account name, alone, as `DOMAIN\name` or as `name@domain`. */
  | 'account'
  /** E-mail addresses, one or several. */
  | 'email'
  /** A file path or name: listed file names. */
  | 'file';

const ROLES: Record<FieldRole, string[]> = {
  address: [
    'SourceIp',
    'DestinationIp',
    'IpAddress',
    'SourceAddress',
    'DestAddress',
    'DestinationAddress',
    'ClientIP',
    'ClientAddress',
    'RemoteAddress',
    'RemoteIP',
    'src_ip',
    'dst_ip',
    'dest_ip',
    'src',
    'dst',
    'source.ip',
    'destination.ip',
    'client.ip',
    'server.ip',
    'source.address',
    'destination.address',
    'id.orig_h',
    'id.resp_h',
    'c-ip',
    's-ip',
    'callerIpAddress',
    'ipAddress',
    'client.ipAddress',
    'remote_addr',
  ],
  host: [
    'QueryName',
    'DestinationHostname',
    'dns.question.name',
    'query',
    'rrname',
    'server_name',
    'tls.sni',
    'tls.server_name',
    'url.domain',
    'destination.domain',
    'http.hostname',
    'http.request.host',
    'cs-host',
    'host_header',
  ],
  url: [
    'url',
    'uri',
    'url.original',
    'url.full',
    'http.url',
    'c-uri',
    'cs-uri',
    'cs-referer',
    'request',
    'RequestURL',
    'referrer',
    'http.request.referrer',
  ],
  text: [
    'CommandLine',
    'ParentCommandLine',
    'ScriptBlockText',
    'Payload',
    'ContextInfo',
    'Details',
    'process.command_line',
    'process.parent.command_line',
    'powershell.file.script_block_text',
    'message',
  ],
  hash: [
    'Hashes',
    'Hash',
    'md5',
    'sha1',
    'sha256',
    'sha512',
    'FileHash',
    'file.hash.md5',
    'file.hash.sha1',
    'file.hash.sha256',
    'file.hash.sha512',
    'process.hash.md5',
    'process.hash.sha1',
    'process.hash.sha256',
    'process.hash.sha512',
    'hash.md5',
    'hash.sha1',
    'hash.sha256',
  ],
  account: [
    'User',
    'TargetUserName',
    'SubjectUserName',
    'TargetOutboundUserName',
    'SourceUser',
    'TargetUser',
    'AccountName',
    'SamAccountName',
    'UserName',
    'user.name',
    'user',
    'username',
    'usr',
    'cs-username',
    'userPrincipalName',
    'actor.alternateId',
  ],
  email: [
    'sender',
    'recipient',
    'from',
    'to',
    'cc',
    'mail_from',
    'rcpt_to',
    'SenderAddress',
    'RecipientAddress',
    'P1Sender',
    'P2Sender',
    'email.from.address',
    'email.to.address',
    'email.sender.address',
    'user.email',
  ],
  file: [
    'Image',
    'ParentImage',
    'TargetFilename',
    'ImageLoaded',
    'OriginalFileName',
    'NewProcessName',
    'ProcessName',
    'file.name',
    'file.path',
    'process.executable',
    'process.name',
    'FileName',
    'filename',
  ],
};

const BY_NAME = new Map<string, FieldRole>();
for (const [role, names] of Object.entries(ROLES) as [FieldRole, string[]][])
  for (const name of names) BY_NAME.set(name.toLowerCase(), role);

/** The role of a field by its name, without case; undefined: indicators are not looked for there. */
export function fieldRole(name: string): FieldRole | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** The field names of each role, for documentation and tests. */
export function roleFields(): Readonly<Record<FieldRole, readonly string[]>> {
  return ROLES;
}
