/**
 * The real database (createDatabase over the test PostgreSQL) with a count of the statements
 * that actually reached it, so cache tests can tell a hit from a miss without trusting the cache.
 */
import { pino } from 'pino';
import type { CompiledSql, Database } from '../../../src/db/database.js';
import { createDatabase } from '../../../src/db/create-database.js';
import { testDatabaseUrl } from '../../support/test-app.js';

export interface CountingDatabase extends Database {
  /** Statements run so far, in order. */
  readonly ran: CompiledSql[];
}

export function countingDatabase(): CountingDatabase {
  const real = createDatabase({ url: testDatabaseUrl(), poolMax: 4, statementTimeoutMs: 30_000, connectionTimeoutMs: 5000 }, pino({ level: 'silent' }));
  const ran: CompiledSql[] = [];
  return {
    ran,
    knex: real.knex,
    ping: () => real.ping(),
    close: () => real.close(),
    query(compiled) {
      ran.push(compiled);
      return real.query(compiled);
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(startMs: number): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
