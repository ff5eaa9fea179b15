import { VigilError } from '../core/index.js';
import { type Alert, CLOSE_REASONS, type ServiceStore, type TriageChange } from './store.js';

/**
 * A triage change as the API and the console both make it: closing needs a reason (given now or
 * kept from before), a reason goes only with closing. Undefined when the alert is not in scope.
 */
export async function triageAlert(
  store: ServiceStore,
  scope: string | null,
  id: number,
  change: TriageChange,
  actor: string,
): Promise<Alert | undefined> {
  const current = await store.alert(scope, id);
  if (!current) return undefined;
  const status = change.status ?? current.status;
  if (status === 'closed' && !change.closeReason && !current.closeReason) {
    throw new VigilError(
      'INVALID_REQUEST',
      `closing an alert needs a close_reason: ${CLOSE_REASONS.join(', ')}`,
    );
  }
  if (change.closeReason && status !== 'closed') {
    throw new VigilError('INVALID_REQUEST', 'close_reason is given only when the status is closed');
  }
  return store.triage(scope, id, change, actor);
}
