/**
 * Everything the HTTP layer needs, built once at start-up by `cli/serve`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Model } from '../schema/model.js';
import type { AuthResult } from '../auth/auth-result.js';
import type { ResultCache } from '../cache/create-result-cache.js';
import type { Metrics } from '../metrics/create-metrics.js';

/** The request as the auth stage sees it: headers are lower-cased. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly ip: string;
  /** The underlying framework request, handed to a user's `checkAuth`. */
  readonly raw: unknown;
}

export type Authenticate = (req: AuthRequest) => Promise<AuthResult>;

export interface AppDeps {
  readonly config: Config;
  readonly model: Model;
  readonly db: Database;
  readonly logger: Logger;
  readonly authenticate: Authenticate;
  /** The result cache (absent when off): `db` is its `db`; `resultCache.db.stats()` has the counters for metrics. */
  readonly resultCache?: ResultCache | undefined;
  /** The app's metrics; `db` statements are already timed into them. Absent in hand-built deps. */
  readonly metrics?: Metrics | undefined;
}
