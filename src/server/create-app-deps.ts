/**
 * Builds everything the HTTP layer needs from a loaded config and an open
 * database: the model, the operator metadata schema, and the authenticate
 * stage. Shared by `tessera serve`, the test harness and the benchmark so
 * all three wire Tessera the same way.
 */
import type { Logger } from 'pino';
import { createAuthenticator } from '../auth/create-authenticator.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { createApiKeyAuthenticator } from '../operator/create-api-key-authenticator.js';
import { migrateOperatorSchema } from '../operator/migrate-operator-schema.js';
import { loadModel } from '../schema/load-model.js';
import type { AppDeps } from './app-deps.js';
import { createResultCache } from '../cache/create-result-cache.js';
import { createMetrics } from '../metrics/create-metrics.js';
import { instrumentDatabase } from '../metrics/instrument-database.js';
import type { Model } from '../schema/model.js';

export async function createAppDeps(args: { config: Config; db: Database; logger: Logger; model?: Model }): Promise<AppDeps> {
  const { config, logger } = args;
  const model = args.model ?? (await loadModel(config.schemaPath));
  // Statements are timed under the cache, so /metrics and Server-Timing count only what reached PostgreSQL.
  const metrics = createMetrics({ db: args.db });
  const observed = instrumentDatabase(args.db, metrics);
  const resultCache = createResultCache({ config, db: observed, model, logger });
  const db = resultCache?.db ?? observed;
  await migrateOperatorSchema(db.knex, { schema: config.operator.metaSchema });
  const apiKeys =
    config.operator.authMode === 'none' ? undefined : createApiKeyAuthenticator({ config, knex: db.knex, logger });
  const authenticate = createAuthenticator(config, { apiKeys });
  return Object.freeze({ config, model, db, logger, authenticate, resultCache, metrics });
}
