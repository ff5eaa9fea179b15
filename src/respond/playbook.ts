import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { collectFiles, parseCidr, readYamlDocuments, VigilError } from '../core/index.js';
import { LEVELS, parseTimespan } from '../sigma/index.js';
import { ACTIONS } from './actions.js';
import {
  ConditionError,
  checkCondition,
  type FactType,
  type Predicate,
  parseCondition,
} from './condition.js';
import { isLookup, LOOKUPS, type LookupName } from './lookups.js';
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
        action: z.string().optional(),
        enrich: z.string().optional(),
        decide: z.string().optional(),
        // biome-ignore lint/suspicious/noThenProperty: the playbook's word; the model calls it ifHolds
        then: list.optional(),
        else: list.optional(),
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
    // What a template or a condition may read, with its type: the inputs, the alert's values, and
    // the facts of the enrich steps before the step being read (added as each one is passed).
    const types = new Map<string, FactType>([
      ...Object.keys(inputs).map((input) => [input, 'text'] as const),
      ...ALERT_VALUES.map((value) => [value, value === 'alert.techniques' ? 'list' : 'text'] as const),
    ]);
    const alertValues = new Set([...Object.keys(inputs), ...ALERT_VALUES]);
    const enrichSteps = new Map<string, LookupName>();
    const stepNames = p.steps.map((s) => s.name);
    const steps: Step[] = [];

    /** The parameters of an action or a lookup: those it needs, those it takes, what they read. */
    const checkParams = (
      label: string,
      params: Record<string, { type: string; required: boolean }>,
      given: Record<string, string>,
      at: (...rest: PropertyKey[]) => PropertyKey[],
    ) => {
      for (const [param, spec] of Object.entries(params))
        if (spec.required && given[param] === undefined)
          problems.push(problem(`${label} needs '${param}'`, at('with')));
      for (const [param, template] of Object.entries(given)) {
        const spec = params[param];
        if (!spec) {
          problems.push(
            problem(
              `${label} takes no '${param}'; it takes ${Object.keys(params).join(', ')}`,
              at('with', param),
            ),
          );
          continue;
        }
        for (const used of templateNames(template)) {
          if (!types.has(used))
            problems.push(problem(`{{ ${used} }} is ${unknownName(used)}`, at('with', param)));
          else if (spec.type !== 'text' && inputs[used] && inputs[used].type !== spec.type)
            problems.push(
              problem(
                `'${param}' must be of type ${spec.type}; input '${used}' is ${inputs[used].type}`,
                at('with', param),
              ),
            );
        }
      }
    };

    /** Why a name is not known here, with what would be. */
    const unknownName = (used: string) => {
      const dot = used.lastIndexOf('.');
      const lookup = dot > 0 ? enrichSteps.get(used.slice(0, dot)) : undefined;
      if (lookup)
        return `not a fact of ${used.slice(0, dot)}; ${lookup} gives ${Object.keys(LOOKUPS[lookup].facts).join(', ')}`;
      if (dot > 0 && stepNames.includes(used.slice(0, dot)))
        return `not known here: step ${used.slice(0, dot)} is no enrich step before this one`;
      return 'neither an input, an alert value nor a fact of an earlier enrich step';
    };

    p.steps.forEach((step, i) => {
      const at = (...rest: PropertyKey[]) => ['steps', i, ...rest];
      const kinds = (['action', 'enrich', 'decide'] as const).filter((k) => step[k] !== undefined);
      if (kinds.length !== 1) {
        problems.push(
          kinds.length === 0
            ? problem('a step needs one of action, enrich or decide', at())
            : problem(`a step does one thing: ${kinds.join(' and ')} exclude each other`, at(kinds[1]!)),
        );
        return;
      }
      const kind = kinds[0]!;
      if (kind !== 'decide')
        for (const key of ['then', 'else'] as const)
          if (step[key] !== undefined) problems.push(problem(`only a decide step takes '${key}'`, at(key)));
      if (kind !== 'action')
        for (const key of ['mode', 'ttl'] as const)
          if (step[key] !== undefined)
            problems.push(
              problem(`only an action step takes '${key}': a ${kind} step changes nothing`, at(key)),
            );
      const conditions = Object.entries(step.when ?? {}).map(([subject, test]) => {
        if (!alertValues.has(subject) || subject === 'alert.techniques')
          problems.push(
            problem(
              `'${subject}' is neither an input nor an alert value (a decide step reads facts)`,
              at('when', subject),
            ),
          );
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
      const common = { name: step.name, when: conditions, line: document.lineOf(at()) };
      const given = step.with ?? {};

      if (kind === 'action') {
        const action = ACTIONS[step.action!];
        if (!action) {
          problems.push(
            problem(
              `unknown action '${step.action}'; known: ${Object.keys(ACTIONS).join(', ')}`,
              at('action'),
            ),
          );
          return;
        }
        checkParams(step.action!, action.params, given, at);
        if (step.ttl !== undefined && !action.revertible)
          problems.push(problem(`${step.action} cannot be undone, so it takes no ttl`, at('ttl')));
        steps.push({
          ...common,
          kind,
          action: step.action!,
          with: given,
          mode: step.mode,
          ttlMs: step.ttl === undefined ? undefined : parseTimespan(step.ttl),
        });
        return;
      }

      if (kind === 'enrich') {
        const lookup = step.enrich!;
        if (!isLookup(lookup)) {
          problems.push(
            problem(`unknown lookup '${lookup}'; known: ${Object.keys(LOOKUPS).join(', ')}`, at('enrich')),
          );
          return;
        }
        checkParams(`enrich ${lookup}`, LOOKUPS[lookup].params, given, at);
        // Its facts are known from the next step on.
        enrichSteps.set(step.name, lookup);
        for (const [fact, type] of Object.entries(LOOKUPS[lookup].facts))
          types.set(`${step.name}.${fact}`, type);
        steps.push({ ...common, kind, lookup, with: given });
        return;
      }

      if (step.with !== undefined)
        problems.push(problem('a decide step takes no with: its condition reads values by name', at('with')));
      let predicate: Predicate | undefined;
      try {
        predicate = parseCondition(step.decide!);
      } catch (error) {
        if (!(error instanceof ConditionError)) throw error;
        problems.push(problem(`at column ${error.column}: ${error.message}`, at('decide')));
      }
      if (predicate)
        for (const found of checkCondition(predicate, (n) => types.get(n))) {
          const name = /^'([^']+)' is not known here$/.exec(found.message)?.[1];
          const message = name ? `'${name}' is ${unknownName(name)}` : found.message;
          problems.push(problem(`at column ${found.column}: ${message}`, at('decide')));
        }
      const later = stepNames.slice(i + 1);
      const branch = (key: 'then' | 'else') => {
        const named = step[key] ?? [];
        named.forEach((target, n) => {
          if (!later.includes(target))
            problems.push(problem(`'${target}' is not a step after this one`, at(key, n)));
        });
        return named;
      };
      const otherwise = branch('else');
      const then = step.then === undefined ? later.filter((s) => !otherwise.includes(s)) : branch('then');
      for (const both of then.filter((s) => otherwise.includes(s)))
        problems.push(problem(`'${both}' cannot be both in then and in else`, at('else')));
      if (predicate)
        steps.push({
          ...common,
          kind,
          condition: predicate,
          source: step.decide!,
          ifHolds: then,
          ifNot: otherwise,
        });
    });
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
