import { parentPort, workerData } from 'node:worker_threads';
import { type BatchTask, ServiceEvaluator } from './evaluate.js';
import { CompiledServiceRules, loadServiceRules, type ServiceRuleOptions } from './rules.js';

/**
 * A detection thread of `vigil serve`: loads and compiles the service's rules itself (compiled
 * rules cannot cross threads), then evaluates runs of tenants' event logs as they are sent.
 * Answers as the hunt's worker does, so the same pool drives both.
 */
async function start(options: ServiceRuleOptions): Promise<ServiceEvaluator> {
  return new ServiceEvaluator(new CompiledServiceRules(await loadServiceRules(options), options.indicators));
}

const port = parentPort!;
start(workerData as ServiceRuleOptions).then(
  (evaluator) => {
    port.on('message', (message: { type: string; task: BatchTask }) => {
      try {
        port.postMessage({ type: 'done', result: evaluator.evaluate(message.task) });
      } catch (error) {
        port.postMessage({ type: 'error', message: (error as Error).message });
      }
    });
    port.postMessage({ type: 'ready' });
  },
  (error: Error) => port.postMessage({ type: 'failed', message: error.message }),
);
