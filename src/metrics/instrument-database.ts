/** The database with every data query timed: into the DB histogram and the request's Server-Timing (its scope's timing). */
import type { Database } from '../db/database.js';
import type { Metrics } from './create-metrics.js';

export function instrumentDatabase(db: Database, metrics: Metrics): Database {
  return Object.freeze({
    ...db,
    knex: db.knex,
    ping: () => db.ping(),
    close: () => db.close(),
    ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
    async query(compiled: Parameters<Database['query']>[0], opts?: Parameters<Database['query']>[1]) {
      const started = performance.now();
      let outcome = 'error';
      try {
        const result = await db.query(compiled, opts);
        outcome = 'ok';
        return result;
      } finally {
        const ms = performance.now() - started;
        metrics.dbDuration.observe({ outcome }, ms / 1000);
        opts?.timing?.add('db', ms);
      }
    },
  });
}
