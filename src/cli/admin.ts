import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../core/index.js';
import {
  checkTenantName,
  dataPaths,
  loadServiceConfig,
  migrateServiceStore,
  openServiceStore,
  parseServiceConfig,
  ROLES,
  type Role,
  redactUrl,
  type ServiceStore,
  type StoreChoice,
  storeChoice,
} from '../service/index.js';
import { registerClusterStatus } from './admin-cluster.js';
import { storeFlag } from './store-option.js';
import { table, UsageError } from './terminal.js';

interface AdminFlags {
  data?: string;
  store?: string;
}

/** Who the audit log names for changes made here: the operating-system user at the console. */
function actor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No user entry (some containers): keep 'unknown'.
  }
  return `admin-cli:${name}`;
}

function dataDirOf(command: Command): string {
  const flags = command.optsWithGlobals() as AdminFlags;
  if (!flags.data) throw new UsageError('give the service data folder: vigil admin --data DIR ...');
  return resolve(flags.data);
}

/**
 * The store a command works on: --store (PostgreSQL), else the data folder's: the store its
 * config.yml names, or its SQLite database.
 */
function chosenStore(command: Command): StoreChoice {
  const flags = command.optsWithGlobals() as AdminFlags;
  const url = storeFlag(flags.store);
  if (url !== undefined) return { url };
  if (!flags.data)
    throw new UsageError(
      'give the service data folder or its store: vigil admin --data DIR | --store URL ...',
    );
  const dir = resolve(flags.data);
  return storeChoice(loadServiceConfig(dir).store, dataPaths(dir).database);
}

async function withStore<T>(command: Command, work: (store: ServiceStore) => Promise<T>): Promise<T> {
  const store = await openServiceStore(chosenStore(command));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      "manage a detection service's data folder or PostgreSQL store: tenants, tokens, sessions, the audit log, migrations, rule reloads",
    )
    .option('--data <dir>', 'the data folder of vigil serve')
    .option(
      '--store <url>',
      'the PostgreSQL store of a cluster (postgres://…?schema=NAME), instead of the data folder',
    );

  admin
    .command('migrate')
    .description("bring the store's schema up to date (PostgreSQL: before the nodes start on a new version)")
    .action(async (_flags: unknown, command: Command) => {
      const choice = chosenStore(command);
      const { before, after } = await migrateServiceStore(choice);
      const where = 'url' in choice ? redactUrl(choice.url) : choice.database;
      process.stdout.write(
        before === after
          ? `${where}: schema version ${after}, up to date\n`
          : `${where}: schema version ${before} -> ${after}\n`,
      );
    });

  const tenant = admin
    .command('tenant')
    .description('tenants: each customer, with its own events, alerts and rules');
  tenant
    .command('add')
    .description('add a tenant')
    .argument('<name>', 'lower-case letters, digits, - and _')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        checkTenantName(name);
        if (await store.hasTenant(name)) throw new VigilError('TENANT_EXISTS', `tenant '${name}' exists`);
        await store.addTenant(name, actor());
        process.stdout.write(`tenant ${name} added\n`);
      });
    });
  tenant
    .command('list')
    .description('list tenants')
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const tenants = await store.tenants();
        process.stdout.write(
          `${table(
            ['Tenant', 'Added'],
            tenants.map((t) => [t.name, t.createdAt]),
          )}\n`,
        );
      });
    });

  const token = admin.command('token').description('API tokens: only their hashes are kept');
  token
    .command('add')
    .description('make a token and print it (as the last line, alone): it is shown this once')
    .requiredOption('--role <role>', `${ROLES.join(', ')}`)
    .option(
      '--tenant <name>',
      'the one tenant the token may see (required for ingest; without: every tenant)',
    )
    .option('--name <label>', 'a label to tell the token apart (who or what holds it)')
    .action(async (flags: { role: string; tenant?: string; name?: string }, command: Command) => {
      if (!(ROLES as readonly string[]).includes(flags.role)) {
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not '${flags.role}'`);
      }
      if (flags.role === 'ingest' && !flags.tenant)
        throw new UsageError('an ingest token belongs to one tenant: give --tenant');
      await withStore(command, async (store) => {
        if (flags.tenant && !(await store.hasTenant(flags.tenant))) {
          throw new VigilError(
            'UNKNOWN_TENANT',
            `no tenant '${flags.tenant}': add it first with vigil admin tenant add`,
          );
        }
        const { id, secret } = await store.addToken(
          { role: flags.role as Role, tenant: flags.tenant ?? null, label: flags.name ?? null },
          actor(),
        );
        process.stderr.write(
          `token ${id} (${flags.role}${flags.tenant ? ` of ${flags.tenant}` : ', every tenant'}): keep it now, it is not shown again\n`,
        );
        process.stdout.write(`${secret}\n`);
      });
    });
  token
    .command('list')
    .description('list tokens')
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const tokens = await store.listTokens();
        process.stdout.write(
          `${table(
            ['Id', 'Role', 'Tenant', 'Label', 'Made', 'Revoked'],
            tokens.map((t) => [
              t.id,
              t.role,
              t.tenant ?? '(every tenant)',
              t.label ?? '',
              t.createdAt,
              t.revokedAt ?? '',
            ]),
          )}\n`,
        );
      });
    });
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>', 'the id token list shows')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`the token id must be a whole number, not '${id}'`);
      await withStore(command, async (store) => {
        if (!(await store.revokeToken(n, actor()))) throw new VigilError('NOT_FOUND', `no active token ${n}`);
        process.stdout.write(`token ${n} revoked\n`);
      });
    });

  const session = admin
    .command('session')
    .description('console sessions: a token exchanged for a browser cookie at sign-in');
  session
    .command('list')
    .description('list console sessions, ended ones included')
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const sessions = await store.listSessions();
        process.stdout.write(
          `${table(
            ['Id', 'Token', 'Role', 'Tenant', 'Signed in', 'Last used', 'Expires', 'Ended'],
            sessions.map((s) => [
              s.id,
              `${s.tokenId}${s.label ? ` (${s.label})` : ''}`,
              s.role,
              s.tenant ?? '(every tenant)',
              s.createdAt,
              s.lastSeen,
              s.expiresAt,
              s.endedAt ?? '',
            ]),
          )}\n`,
        );
      });
    });
  session
    .command('revoke')
    .description('end a console session now (revoking its token ends all of its sessions)')
    .argument('<id>', 'the id session list shows')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`the session id must be a whole number, not '${id}'`);
      await withStore(command, async (store) => {
        if (!(await store.endSession(n, actor(), 'revoked')))
          throw new VigilError('NOT_FOUND', `no live session ${n}`);
        process.stdout.write(`session ${n} ended\n`);
      });
    });

  const audit = admin.command('audit').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check the hash chain: exit 1 and name the first entry that does not fit')
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        const verdict = await store.verifyAudit();
        if (verdict.broken) {
          process.stdout.write(
            `${pc.red('broken')}: entry ${verdict.broken.seq} ${verdict.broken.reason} (${verdict.entries} entries read)\n`,
          );
          process.exitCode = 1;
        } else {
          process.stdout.write(
            `${pc.green('intact')}: ${verdict.entries} entries, each following from the one before\n`,
          );
        }
      });
    });

  registerClusterStatus(admin, async (command) => {
    const flags = command.optsWithGlobals() as AdminFlags;
    const config = flags.data ? loadServiceConfig(resolve(flags.data)) : parseServiceConfig({}, 'defaults');
    return { store: await openServiceStore(chosenStore(command)), config };
  });

  const rules = admin.command('rules').description('the rules of a running service');
  rules
    .command('reload')
    .description('have the running service load its rules again (it reloads on file changes by itself too)')
    .action((_flags: unknown, command: Command) => {
      const dir = dataDirOf(command);
      let pid: number;
      try {
        pid = Number(readFileSync(join(dir, 'serve.pid'), 'utf8').trim());
      } catch {
        throw new VigilError('NOT_RUNNING', 'no vigil serve is running on this data folder', { file: dir });
      }
      try {
        process.kill(pid, 'SIGHUP');
      } catch (error) {
        throw new VigilError(
          'NOT_RUNNING',
          `the service (process ${pid}) cannot be reached: ${(error as Error).message}`,
          {
            file: dir,
          },
        );
      }
      process.stdout.write(
        `asked vigil serve (process ${pid}) to reload its rules; its log tells the outcome\n`,
      );
    });
}
