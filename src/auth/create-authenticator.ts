import type { Config } from '../config/config.js';
import type { Authenticate } from '../server/app-deps.js';
import { EngineError } from '../errors/engine-error.js';

/** Builds the authenticate stage from config. Placeholder. */
export function createAuthenticator(_config: Config): Authenticate {
  return async () => {
    throw new EngineError('ERR_AUTH_MISSING', "Authorization header isn't set");
  };
}
