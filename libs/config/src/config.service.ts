import type { Config } from './config.types';

/**
 * Read-only access to the validated configuration. A lib asks only for its own
 * slice: `config.get('redis')`.
 */
export class ConfigService {
  constructor(private readonly config: Config) {}

  get<K extends keyof Config>(slice: K): Config[K] {
    return this.config[slice];
  }
}
