/**
 * Shared harness of the red-team suite: the attack model (test/attacks/models/mt), a real app,
 * and a pg client for hand-written ground truth.
 */
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { createTestApp, REPO_ROOT, testDatabaseUrl, type TestApp, type TestAppOptions } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

export const ATTACK_MODEL = path.join(REPO_ROOT, 'test', 'attacks', 'models', 'mt');

export interface Harness {
  readonly t: TestApp;
  readonly db: pg.Client;
  close(): Promise<void>;
}

export async function openHarness(opts: TestAppOptions = {}): Promise<Harness> {
  const t = await createTestApp({ schemaPath: ATTACK_MODEL, ...opts });
  const db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  await db.query(`SET TIME ZONE 'UTC'`);
  return { t, db, close: async () => { await db.end(); await t.close(); } };
}

/** One value from hand-written SQL, as the string PostgreSQL gives (counts, sums). */
export async function truth(h: Harness, sql: string, params: unknown[] = []): Promise<string | null> {
  const row = (await h.db.query(sql, params)).rows[0] as Record<string, unknown> | undefined;
  const v = row ? Object.values(row)[0] : undefined;
  return v === null || v === undefined ? null : String(v);
}

export const tenantToken = (tenant: unknown, extra: Record<string, unknown> = {}) =>
  signToken({ sub: `attacker-${String(tenant)}`, tenant_id: tenant, ...extra });

export function load(h: Harness, token: string | undefined, query: unknown, extra: Record<string, unknown> = {}) {
  const req = request(h.t.app).post('/cubejs-api/v1/load');
  if (token !== undefined) req.set('Authorization', token);
  return req.send({ query, ...extra });
}

export function post(h: Harness, route: 'load' | 'sql' | 'dry-run', token: string, query: unknown, extra: Record<string, unknown> = {}) {
  return request(h.t.app).post(`/cubejs-api/v1/${route}`).set('Authorization', token).send({ query, ...extra });
}

/** The single value of a one-row answer, stringified the way pg gives it. */
export function only(body: { data?: Record<string, unknown>[] }, member: string): string | null {
  const rows = body.data ?? [];
  if (rows.length !== 1) throw new Error(`expected one row, got ${JSON.stringify(body).slice(0, 400)}`);
  const v = rows[0]![member];
  return v === null || v === undefined ? null : String(v);
}
