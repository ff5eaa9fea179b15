import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FieldValue, LogEvent, VigilError } from '../../src/core/index.js';
import { readEvents, toLogEvent } from '../../src/logs/index.js';

/** Documents written from each product's documented format (no public sample exists). */

async function read(name: string, text: string): Promise<{ events: LogEvent[]; errors: VigilError[] }> {
  const path = join(await mkdtemp(join(tmpdir(), 'vigil-source-names-')), name);
  await writeFile(path, text);
  const events: LogEvent[] = [];
  const errors: VigilError[] = [];
  for await (const event of readEvents(path, { onError: (e) => errors.push(e) })) events.push(event);
  return { events, errors };
}

describe('Auditbeat and Elastic Agent audit documents get the raw auditd names', () => {
  const execve = {
    '@timestamp': '2024-05-01T10:00:00.007Z',
    event: { module: 'auditd', action: 'executed' },
    auditd: {
      message_type: 'syscall',
      sequence: 8817905,
      result: 'success',
      session: '3',
      data: { syscall: 'execve', arch: 'x86_64', a0: '55d1c4e0a8f0', a1: '55d1c4e0b1a0' },
      paths: [
        { name: '/usr/bin/curl', nametype: 'NORMAL' },
        { name: '/lib64/ld-linux-x86-64.so.2', nametype: 'NORMAL' },
      ],
    },
    user: { id: '1000', audit: { id: '1000' }, effective: { id: '0' } },
    process: {
      pid: 4242,
      ppid: 4200,
      name: 'curl',
      executable: '/usr/bin/curl',
      working_directory: '/tmp',
      title: 'curl -O http://203.0.113.7/x',
      args: ['curl', '-O', 'http://203.0.113.7/x'],
    },
    tags: ['susp_activity', 'network'],
  };

  it('joins the records an event was built from, as the audit.log reader does', () => {
    const { fields, time } = toLogEvent(execve, 'a.json', 1);
    expect(time).toBe(Date.parse('2024-05-01T10:00:00.007Z'));
    expect(fields).toMatchObject({
      msg: 'audit(1714557600.007:8817905)',
      type: ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE'],
      syscall: 'execve',
      SYSCALL: 'execve',
      success: 'yes',
      ses: '3',
      // The syscall's argument and the EXECVE one, as the records of one serial join.
      a0: ['55d1c4e0a8f0', 'curl'],
      a1: ['55d1c4e0b1a0', '-O'],
      a2: 'http://203.0.113.7/x',
      argc: 3,
      exe: '/usr/bin/curl',
      comm: 'curl',
      cwd: '/tmp',
      proctitle: 'curl -O http://203.0.113.7/x',
      uid: '1000',
      auid: '1000',
      euid: '0',
      name: ['/usr/bin/curl', '/lib64/ld-linux-x86-64.so.2'],
      nametype: ['NORMAL', 'NORMAL'],
      key: ['susp_activity', 'network'],
    });
    // The ECS form is still there.
    expect(fields['process.executable']).toBe('/usr/bin/curl');
  });

  it('a user-space record keeps its own fields; names the document has are not replaced', () => {
    const { fields } = toLogEvent(
      {
        '@timestamp': '2024-05-01T10:00:00Z',
        auditd: {
          message_type: 'user_login',
          sequence: 7,
          result: 'fail',
          data: { op: 'login', acct: 'root' },
        },
        type: 'kept',
      },
      'a.json',
      1,
    );
    expect(fields).toMatchObject({ type: 'kept', op: 'login', acct: 'root', success: 'no' });
    expect(fields.msg).toBe('audit(1714557600.000:7)');
  });

  it('Filebeat records: the type and pairs of `auditd.log`', () => {
    const { fields } = toLogEvent(
      {
        '@timestamp': '2024-05-01T10:00:00Z',
        auditd: { log: { record_type: 'EXECVE', sequence: 9, a0: 'ls', a1: '-la', argc: '2' } },
      },
      'a.json',
      1,
    );
    expect(fields).toMatchObject({ type: 'EXECVE', msg: 'audit(1714557600.000:9)', a0: 'ls', a1: '-la' });
  });

  it('other JSON with an `auditd` key is left alone', () => {
    const { fields } = toLogEvent({ auditd: { enabled: true } }, 'a.json', 1);
    expect(fields.msg).toBeUndefined();
    expect(fields.type).toBeUndefined();
  });
});

describe('Endpoint Security events (eslogger)', () => {
  const process = (path: string) => ({ audit_token: { pid: 900 }, ppid: 1, executable: { path } });
  it('names the event, joins an exec’s arguments and finds the file a file event names', () => {
    const exec = toLogEvent(
      {
        event_type: 9,
        time: '2024-05-01T10:00:00.123456789Z',
        process: process('/bin/zsh'),
        event: { exec: { target: process('/usr/bin/curl'), args: ['curl', '-s', 'https://example.com'] } },
      },
      'e.json',
      1,
    );
    expect(exec.time).toBe(Date.parse('2024-05-01T10:00:00.123Z'));
    expect(exec.fields).toMatchObject({ es_event: 'exec', command_line: 'curl -s https://example.com' });
    expect(exec.fields['event.exec.target.executable.path']).toBe('/usr/bin/curl');

    const created = (destination: FieldValue) =>
      toLogEvent(
        {
          event_type: 13,
          process: process('/bin/cp'),
          event: { create: { destination_type: 1, destination } },
        },
        'e.json',
        1,
      ).fields.target_path;
    expect(created({ new_path: { dir: { path: '/tmp/' }, filename: 'a.plist' } })).toBe('/tmp/a.plist');
    expect(created({ existing_file: { path: '/tmp/b' } })).toBe('/tmp/b');
    expect(created({ new_path: { dir: {} } })).toBeUndefined();
    const renamed = toLogEvent(
      {
        event_type: 25,
        process: process('/bin/mv'),
        event: {
          rename: {
            source: { path: '/tmp/x' },
            destination_type: 1,
            destination: { new_path: { dir: { path: '/Library/LaunchDaemons' }, filename: 'x.plist' } },
          },
        },
      },
      'e.json',
      1,
    );
    expect(renamed.fields).toMatchObject({
      es_event: 'rename',
      target_path: '/Library/LaunchDaemons/x.plist',
    });
  });
});

describe('the macOS unified log (log show --style json / ndjson)', () => {
  const entry = (message: string, n: number) => ({
    traceID: n,
    eventMessage: message,
    eventType: 'logEvent',
    subsystem: 'com.apple.opendirectoryd',
    category: 'auth',
    processImagePath: '/usr/libexec/opendirectoryd',
    timestamp: `2024-05-01 12:00:0${n}.123456+0200`,
    messageType: 'Default',
    processID: 123,
  });

  it('reads the array of --style json, times with their zone', async () => {
    const { events, errors } = await read(
      'log.json',
      JSON.stringify([entry('one', 1), entry('two', 2)], null, 2),
    );
    expect(errors).toEqual([]);
    expect(events.map((e) => [e.fields.eventMessage, e.time])).toEqual([
      ['one', Date.parse('2024-05-01T10:00:01.123Z')],
      ['two', Date.parse('2024-05-01T10:00:02.123Z')],
    ]);
  });

  it('skips the line a predicate adds before the JSON, keeps line numbers, and reports a damaged line', async () => {
    const text = `Filtering the log data using "process == "sshd""\n${JSON.stringify(entry('one', 1))}\n{"eventMessage": \n`;
    for (const name of ['log.ndjson', 'log.json']) {
      const { events, errors } = await read(name, text);
      expect(events.map((e) => [e.fields.eventMessage, e.source.line])).toEqual([['one', 2]]);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.code).toBe('LOG_RECORD');
    }
  });
});

describe('damaged Auditbeat and eslogger documents (mutation fuzzing)', () => {
  const fixtures = ['auditbeat.ndjson', 'eslogger.ndjson'].map((name) =>
    join(import.meta.dirname, '..', 'fixtures', 'logs', name),
  );
  let seed = 1234;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const junk = (): FieldValue => {
    const kinds: FieldValue[] = [null, 0, -1, 1e300, '', 'x', true, [], [null, 1, {}], {}, { path: 7 }];
    return kinds[random(kinds.length)]!;
  };
  /** The document with one value somewhere in it replaced by a value of another type. */
  const mutate = (value: FieldValue, depth = 0): FieldValue => {
    if (random(4) === 0 || depth > 6) return junk();
    if (Array.isArray(value)) return value.map((item) => (random(3) === 0 ? mutate(item, depth + 1) : item));
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, random(3) === 0 ? mutate(item, depth + 1) : item]),
      );
    return value;
  };

  it.each(fixtures)('%s: values of the wrong type never crash the naming', async (path) => {
    const documents = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { [key: string]: FieldValue });
    for (let round = 0; round < 300; round++) {
      const document = documents[round % documents.length]!;
      const mutated = mutate(document);
      if (mutated === null || typeof mutated !== 'object' || Array.isArray(mutated)) continue;
      expect(() => toLogEvent(mutated, path, round)).not.toThrow();
    }
  });

  it.each(fixtures)('%s: damaged lines are reported with their line and skipped', async (path) => {
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    for (let round = 0; round < 20; round++) {
      const damaged = lines.map((line) => {
        if (random(3) !== 0) return line;
        const at = random(line.length);
        return random(2) === 0 ? line.slice(0, at) : `${line.slice(0, at)}"{[${line.slice(at + 3)}`;
      });
      const { events, errors } = await read('damaged.ndjson', `${damaged.join('\n')}\n`);
      for (const error of errors) {
        expect(error.code).toBe('LOG_RECORD');
        expect(error.location.line).toBeGreaterThan(0);
      }
      // Every line left whole is read; no line gives more than one event or report.
      const whole = damaged.filter((line, i) => line === lines[i]).length;
      expect(events.length).toBeGreaterThanOrEqual(whole);
      expect(events.length + errors.length).toBeLessThanOrEqual(lines.length);
    }
  });
});
