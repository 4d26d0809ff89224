/**
 * Helpers for client tests against a real Tessera: the app on an ephemeral
 * port (clients need a URL), and the expected numbers from hand-written SQL.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import pg from 'pg';

export interface Listening {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `<origin>/cubejs-api/v1` */
  readonly apiUrl: string;
  close(): Promise<void>;
}

export async function listen(app: express.Express): Promise<Listening> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    apiUrl: `${origin}/cubejs-api/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface MonthTotals {
  /** `YYYY-MM-01T00:00:00.000`, as Tessera labels a month bucket. */
  readonly month: string;
  /** Exact strings, as PostgreSQL prints count and numeric sums. */
  readonly count: string;
  readonly amount: string;
}

/** One user's orders per month of a UTC year, straight from the orders table. */
export async function ordersByMonth(databaseUrl: string, userId: number, year: number): Promise<MonthTotals[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<MonthTotals>(
      `SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS month,
              count(*)::text AS count,
              sum(amount)::text AS amount
         FROM tessera_demo.orders
        WHERE user_id = $1
          AND created_at >= make_timestamptz($2, 1, 1, 0, 0, 0, 'UTC')
          AND created_at < make_timestamptz($2 + 1, 1, 1, 0, 0, 0, 'UTC')
        GROUP BY 1
        ORDER BY 1`,
      [userId, year],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** The twelve month labels of a year, for checking filled-in charts. */
export const monthsOf = (year: number): string[] =>
  Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}-01T00:00:00.000`);
