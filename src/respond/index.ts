export { ACTIONS, type ActionSpec } from './actions.js';
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
  type AlertFacts,
  type Condition,
  INPUT_TYPES,
  type InputSpec,
  type InputType,
  MODES,
  type Mode,
  type Playbook,
  type Step,
  type Trigger,
} from './model.js';
export { type Plan, type PlannedStep, planFor, triggers, typeProblem } from './plan.js';
export { loadPlaybooks, type PlaybookSet, parsePlaybooks } from './playbook.js';
