/**
 * Counts the statements a knex pool really sends: every connection it hands out records the text
 * of each query (those `keep` accepts) before running it. For tests that count limiter round trips.
 */
import type { Knex } from 'knex';

interface Connection {
  query(...args: unknown[]): Promise<unknown>;
  counted?: true;
}

export function countStatements(knex: Knex, keep: (text: string) => boolean = () => true, seen: string[] = []): string[] {
  const client = knex.client as { acquireConnection(): Promise<Connection> };
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = async () => {
    const conn = await acquire();
    if (!conn.counted) {
      const query = conn.query.bind(conn);
      conn.query = (...args) => {
        const q = args[0];
        const text = typeof q === 'string' ? q : String((q as { text?: unknown }).text);
        if (keep(text)) seen.push(text);
        return query(...args);
      };
      conn.counted = true;
    }
    return conn;
  };
  return seen;
}
