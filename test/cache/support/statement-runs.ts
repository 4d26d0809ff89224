/**
 * Counts statements that reached the database: a test model's SQL takes a value from `sequence`
 * on each run, and `runs()` reads the sequence's last value through its own connection.
 */
import pg from 'pg';
import { testDatabaseUrl } from '../../support/test-app.js';

export interface StatementRuns {
  /** The sequence's value now; the difference between two readings is the runs in between. */
  runs(): Promise<number>;
  /** A connection for ground-truth queries. */
  readonly admin: pg.Client;
  close(): Promise<void>;
}

export async function openStatementRuns(sequence: string): Promise<StatementRuns> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`CREATE SEQUENCE IF NOT EXISTS ${sequence}`);
  await admin.query(`SELECT nextval('${sequence}')`);
  return {
    admin,
    runs: async () => Number((await admin.query(`SELECT last_value FROM ${sequence}`)).rows[0].last_value),
    close: () => admin.end(),
  };
}
