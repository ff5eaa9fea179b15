import { DEFAULT_BUS_PREFIX, parseBusUrl, type ServiceConfig } from '../service/index.js';
import { UsageError } from './terminal.js';

/** `--bus` over config.yml's address (config.yml's prefix and replicas still apply). */
export function withBus(config: ServiceConfig, flag: string | undefined): ServiceConfig {
  if (flag === undefined) return config;
  const url = parseBusUrl(flag);
  if (!url) throw new UsageError(`--bus must be nats://HOST:PORT, not '${flag}'`);
  return { ...config, bus: { prefix: DEFAULT_BUS_PREFIX, replicas: 1, ...config.bus, url } };
}
