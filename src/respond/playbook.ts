import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { collectFiles, parseCidr, readYamlDocuments, VigilError } from '../core/index.js';
import { LEVELS, parseTimespan } from '../sigma/index.js';
import { ACTIONS } from './actions.js';
import { INPUT_TYPES, MODES, type Playbook, type Step } from './model.js';
import { ALERT_VALUES, templateNames } from './template.js';

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const duration = z.string().refine((text) => parseTimespan(text) !== undefined, {
  message: 'a duration such as 30s, 5m, 1h or 7d',
});
const condition = z.strictObject({
  equals: z.string().optional(),
  in: z.array(z.string()).optional(),
  not_in: z.array(z.string()).optional(),
  in_networks: z.array(z.string()).optional(),
  not_in_networks: z.array(z.string()).optional(),
});
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,80}$/, 'lower-case letters, digits, - and _');

const schema = z.strictObject({
  name,
  description: z.string().optional(),
  mode: z.enum(MODES).optional(),
  approval_timeout: duration.optional(),
  trigger: z.strictObject({
    rules: list.optional(),
    tags: list.optional(),
    techniques: z
      .array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1110 or T1110.003'))
      .optional(),
    levels: z.array(z.enum(LEVELS)).optional(),
    tenants: list.optional(),
  }),
  inputs: z.record(name, z.strictObject({ type: z.enum(INPUT_TYPES), from: list })).optional(),
  steps: z
    .array(
      z.strictObject({
        name,
        action: z.string(),
        with: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
        mode: z.enum(MODES).optional(),
        ttl: duration.optional(),
        when: z.record(z.string(), condition).optional(),
      }),
    )
    .min(1, 'a playbook needs at least one step'),
});

export interface PlaybookSet {
  playbooks: Playbook[];
  /** Documents that could not be used, each with file, line and field. */
  errors: VigilError[];
  files: number;
}

const FIELD_SOURCE = /^(host|tenant|rule\.(id|title|level)|fields\.[A-Za-z0-9_.@-]+)$/;

/** Reads the playbooks of a file: every document that is valid, and an error for each that is not. */
export function parsePlaybooks(text: string, file: string): PlaybookSet {
  const out: PlaybookSet = { playbooks: [], errors: [], files: 1 };
  let documents: ReturnType<typeof readYamlDocuments>;
  try {
    documents = readYamlDocuments(text, file, 'PLAYBOOK_INVALID');
  } catch (error) {
    out.errors.push(error as VigilError);
    return out;
  }
  for (const document of documents) {
    const problem = (message: string, path: PropertyKey[]) =>
      new VigilError('PLAYBOOK_INVALID', message, {
        file,
        line: document.lineOf(path),
        field: path.join('.') || undefined,
      });
    const parsed = schema.safeParse(document.data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) out.errors.push(problem(issue.message, issue.path));
      continue;
    }
    const p = parsed.data;
    const problems: VigilError[] = [];
    const inputs = p.inputs ?? {};
    for (const [input, spec] of Object.entries(inputs)) {
      spec.from.forEach((source, i) => {
        if (!FIELD_SOURCE.test(source))
          problems.push(
            problem(
              `'${source}' is not a value of an alert: use host, tenant, rule.id, rule.title, rule.level or fields.NAME`,
              ['inputs', input, 'from', i],
            ),
          );
      });
    }
    const known = new Set([...Object.keys(inputs), ...ALERT_VALUES]);
    const steps: Step[] = [];
    p.steps.forEach((step, i) => {
      const at = (...rest: PropertyKey[]) => ['steps', i, ...rest];
      const action = ACTIONS[step.action];
      if (!action) {
        problems.push(
          problem(`unknown action '${step.action}'; known: ${Object.keys(ACTIONS).join(', ')}`, at('action')),
        );
        return;
      }
      const given = step.with ?? {};
      for (const [param, spec] of Object.entries(action.params))
        if (spec.required && given[param] === undefined)
          problems.push(problem(`${step.action} needs '${param}'`, at('with')));
      for (const [param, template] of Object.entries(given)) {
        const spec = action.params[param];
        if (!spec) {
          problems.push(
            problem(
              `${step.action} takes no '${param}'; it takes ${Object.keys(action.params).join(', ')}`,
              at('with', param),
            ),
          );
          continue;
        }
        for (const used of templateNames(template)) {
          if (!known.has(used))
            problems.push(problem(`{{ ${used} }} is neither an input nor an alert value`, at('with', param)));
          else if (spec.type !== 'text' && inputs[used] && inputs[used].type !== spec.type)
            problems.push(
              problem(
                `'${param}' must be of type ${spec.type}; input '${used}' is ${inputs[used].type}`,
                at('with', param),
              ),
            );
        }
      }
      if (step.ttl !== undefined && !action.revertible)
        problems.push(problem(`${step.action} cannot be undone, so it takes no ttl`, at('ttl')));
      const conditions = Object.entries(step.when ?? {}).map(([subject, test]) => {
        if (!known.has(subject) || subject === 'alert.techniques')
          problems.push(problem(`'${subject}' is neither an input nor an alert value`, at('when', subject)));
        for (const key of ['in_networks', 'not_in_networks'] as const)
          test[key]?.forEach((network, n) => {
            if (!parseCidr(network))
              problems.push(
                problem(`'${network}' is not an address or a CIDR network`, at('when', subject, key, n)),
              );
          });
        return {
          subject,
          equals: test.equals,
          in: test.in,
          notIn: test.not_in,
          inNetworks: test.in_networks,
          notInNetworks: test.not_in_networks,
        };
      });
      steps.push({
        name: step.name,
        action: step.action,
        with: given,
        mode: step.mode,
        ttlMs: step.ttl === undefined ? undefined : parseTimespan(step.ttl),
        when: conditions,
        line: document.lineOf(at()),
      });
    });
    const stepNames = p.steps.map((s) => s.name);
    stepNames.forEach((stepName, i) => {
      if (stepNames.indexOf(stepName) !== i)
        problems.push(problem(`step '${stepName}' is named twice`, ['steps', i, 'name']));
    });
    if (problems.length > 0) {
      out.errors.push(...problems);
      continue;
    }
    out.playbooks.push({
      name: p.name,
      description: p.description,
      mode: p.mode ?? 'dry-run',
      trigger: {
        rules: p.trigger.rules ?? [],
        tags: (p.trigger.tags ?? []).map((tag) => tag.toLowerCase()),
        techniques: p.trigger.techniques ?? [],
        levels: p.trigger.levels ?? [],
        tenants: p.trigger.tenants ?? [],
      },
      inputs,
      steps,
      approvalTimeoutMs: parseTimespan(p.approval_timeout ?? '4h')!,
      origin: { file, line: document.line },
    });
  }
  return out;
}

/** Reads the playbooks of files and folders (`.yml`, `.yaml`); two playbooks of one name are an error. */
export async function loadPlaybooks(paths: readonly string[]): Promise<PlaybookSet> {
  const collected = await collectFiles(paths, ['.yml', '.yaml']);
  const out: PlaybookSet = { playbooks: [], errors: [], files: 0 };
  out.errors.push(...collected.errors);
  for (const folder of collected.emptyFolders)
    out.errors.push(
      new VigilError('PLAYBOOK_UNREADABLE', 'the folder holds no .yml or .yaml file', { file: folder }),
    );
  for (const file of collected.files) {
    out.files++;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      out.errors.push(new VigilError('PLAYBOOK_UNREADABLE', (error as Error).message, { file }));
      continue;
    }
    const set = parsePlaybooks(text, file);
    out.errors.push(...set.errors);
    for (const playbook of set.playbooks) {
      const first = out.playbooks.find((other) => other.name === playbook.name);
      if (first) {
        out.errors.push(
          new VigilError(
            'PLAYBOOK_INVALID',
            `a playbook named '${playbook.name}' is already in ${first.origin.file}:${first.origin.line}`,
            { file, line: playbook.origin.line, field: 'name' },
          ),
        );
        continue;
      }
      out.playbooks.push(playbook);
    }
  }
  return out;
}
