/**
 * The "done": a dashboard refreshed by a thousand users of one tenant costs the database
 * one statement per tile per refresh interval, never one per user, and users of another tenant
 * get their own rows. Statements are counted by a sequence the tile's SQL advances.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { openStatementRuns, type StatementRuns } from './support/statement-runs.js';
import { signToken } from '../support/tokens.js';

const MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboard-model');
const SEQUENCE = 'public.i14_dashboard_runs';
const TILES = [{ measures: ['tiles.count'] }, { dimensions: ['tiles.name'] }];

describe('a dashboard refresh by a thousand users', () => {
  let t: TestApp;
  let counter: StatementRuns;

  beforeAll(async () => {
    counter = await openStatementRuns(SEQUENCE);
    // An hour-long freshness bucket, so the refresh cannot straddle a bucket boundary.
    t = await createTestApp({ schemaPath: MODEL, env: { TESSERA_CACHE_DEFAULT_REFRESH_SEC: '3600' } });
  });
  afterAll(async () => {
    await t?.close();
    await counter?.close();
  });

  const refresh = async (users: readonly number[], tenant: number) => {
    const bodies: unknown[] = [];
    // Fifty users at a time, each loading every tile with a token of their own.
    for (let i = 0; i < users.length; i += 50) {
      const batch = users.slice(i, i + 50).flatMap((user) => {
        const token = signToken({ sub: `dash-${tenant}-${user}`, u: { id: user }, tenant_id: tenant });
        return TILES.map((q) => request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(q) }).set('Authorization', token));
      });
      for (const res of await Promise.all(batch)) {
        expect(res.status).toBe(200);
        bodies.push(res.body.data);
      }
    }
    return bodies;
  };

  it('costs one statement per tile for all of them, and another tenant its own', async () => {
    const before = await counter.runs();
    const users = Array.from({ length: 1000 }, (_, i) => 10_000 + i);
    const bodies = await refresh(users, 3);
    expect(await counter.runs()).toBe(before + TILES.length);
    const names = (await counter.admin.query('SELECT name FROM tessera_demo.tenants WHERE id = $1', [3])).rows.map((r: { name: string }) => ({ 'tiles.name': r.name }));
    expect(new Set(bodies.map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify([{ 'tiles.count': '1' }]), JSON.stringify(names)]));

    // Two users of tenant 4 cost the database one statement per tile again, and see tenant 4 only.
    const other = await refresh([20_001, 20_002], 4);
    expect(await counter.runs()).toBe(before + 2 * TILES.length);
    const otherNames = (await counter.admin.query('SELECT name FROM tessera_demo.tenants WHERE id = $1', [4])).rows.map((r: { name: string }) => ({ 'tiles.name': r.name }));
    expect(other.filter((b) => JSON.stringify(b).includes('tiles.name'))).toEqual([otherNames, otherNames]);
  });
});
