/**
 * A real app plus a direct database client for hand-written expected SQL (session time zone UTC).
 */
import pg from 'pg';
import { createTestApp, testDatabaseUrl, type TestApp, type TestAppOptions } from './test-app.js';

export interface AppAndDatabase {
  readonly app: TestApp;
  readonly db: pg.Client;
  close(): Promise<void>;
}

export async function openAppAndDatabase(options?: TestAppOptions): Promise<AppAndDatabase> {
  const app = await createTestApp(options);
  const db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
  return {
    app,
    db,
    async close() {
      await db.end();
      await app.close();
    },
  };
}
