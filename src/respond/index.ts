export { ACTIONS, type ActionSpec } from './actions.js';
export {
  ConditionError,
  checkCondition,
  conditionNames,
  evaluateCondition,
  type FactType,
  type FactValue,
  type Predicate,
  parseCondition,
  showFact,
} from './condition.js';
export { loadConnectors, readConnectors } from './connectors/config.js';
export type { ActionResult, Connector, RunOptions } from './connectors/connector.js';
export { TransientFailure } from './connectors/connector.js';
export { type NftablesConfig, NftablesConnector } from './connectors/nftables.js';
export { type WebhookConfig, WebhookConnector, webhookBody, webhookSignature } from './connectors/webhook.js';
export {
  carryOut,
  type ExecuteOptions,
  revert,
  type StepOutcome,
  type StepState,
  settleStep,
} from './execute.js';
export {
  checkFacts,
  describeFacts,
  type Enricher,
  type Facts,
  isLookup,
  LOOKUPS,
  type LookupName,
  type LookupRequest,
  type LookupSpec,
} from './lookups.js';
export {
  type ActionStep,
  type AlertFacts,
  type Condition,
  type DecideStep,
  type EnrichStep,
  INPUT_TYPES,
  type InputSpec,
  type InputType,
  MODES,
  type Mode,
  type Playbook,
  type Step,
  type Trigger,
} from './model.js';
export { type Plan, type PlannedStep, triggerProblem, triggers, typeProblem } from './plan.js';
export { loadPlaybooks, type PlaybookSet, parsePlaybooks } from './playbook.js';
export { PlaybookRun, planFor, type Verdict } from './run.js';
