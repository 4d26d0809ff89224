/**
 * Reads pg_stat_activity on a direct connection, to see which statements
 * Tessera is running in PostgreSQL right now.
 */
import pg from 'pg';
import { testDatabaseUrl } from '../support/test-app.js';

export interface PgActivity {
  /** Active statements of `application_name = tessera` in the test database whose text contains `fragment`. */
  count(fragment: string): Promise<number>;
  /** Resolves once `count(fragment)` satisfies `ok`, polling every 25 ms; returns the ms it took. */
  waitFor(fragment: string, ok: (n: number) => boolean, limitMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function openPgActivity(): Promise<PgActivity> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  const count = async (fragment: string): Promise<number> => {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'tessera' and state = 'active' and strpos(query, $1) > 0`,
      [fragment],
    );
    return rows[0]!.n;
  };
  return {
    count,
    async waitFor(fragment, ok, limitMs = 15_000) {
      const started = performance.now();
      while (!ok(await count(fragment))) {
        if (performance.now() - started > limitMs) throw new Error(`pg_stat_activity never matched for ${fragment}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return performance.now() - started;
    },
    close: () => client.end(),
  };
}
