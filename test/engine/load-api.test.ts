/**
 * Cube's REST API over HTTP: the seed scenario, envelopes, /sql, /meta and validation errors.
 */
import request from 'supertest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppAndDatabase } from '../support/app-and-database.js';
import type { TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

let t: TestApp;
let db: pg.Client;
let close: () => Promise<void>;
const seedToken = signToken({ u: { id: 42 } });

beforeAll(async () => {
  ({ app: t, db, close } = await openAppAndDatabase());
});
afterAll(() => close());

const load = (query: unknown, token = seedToken, extra: Record<string, string> = {}) =>
  request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query), ...extra }).set('Authorization', token);

async function scalar(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.query<{ v: string }>(sql, params);
  return String(rows[0]?.v);
}

describe('the seed scenario', () => {
  it('a token with u: {id: 42} sees only user 42\'s orders', async () => {
    const res = await load({ measures: ['Orders.count', 'Orders.totalAmount'] });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      {
        'Orders.count': await scalar('SELECT count(*)::text AS v FROM orders WHERE user_id = $1', [42]),
        'Orders.totalAmount': await scalar('SELECT sum(amount)::text AS v FROM orders WHERE user_id = $1', [42]),
      },
    ]);
    const everyone = await scalar('SELECT count(*)::text AS v FROM orders', []);
    expect(res.body.data[0]['Orders.count']).not.toBe(everyone);
  });

  it('/sql shows user_id = $1 with params [42] and runs nothing', async () => {
    const res = await request(t.app)
      .get('/cubejs-api/v1/sql')
      .query({ query: JSON.stringify({ measures: ['Orders.count'] }) })
      .set('Authorization', seedToken);
    expect(res.status).toBe(200);
    const [text, params] = res.body.sql.sql as [string, unknown[]];
    expect(text).toContain('user_id = $1');
    expect(text).not.toContain('42');
    expect(params).toEqual([42]);
  });

  it('accepts Bearer tokens and x-cube-authorization', async () => {
    const bearer = await load({ measures: ['Orders.count'] }, `Bearer ${seedToken}`);
    expect(bearer.status).toBe(200);
    const cube = await request(t.app)
      .get('/cubejs-api/v1/load')
      .query({ query: JSON.stringify({ measures: ['Orders.count'] }) })
      .set('x-cube-authorization', seedToken);
    expect(cube.status).toBe(200);
    expect(cube.body.data).toEqual(bearer.body.data);
  });
});

describe('response envelopes', () => {
  it('answers with Cube\'s single-result shape', async () => {
    const res = await load({ measures: ['Orders.count'], dimensions: ['Orders.status'] });
    expect(Object.keys(res.body).sort()).toEqual(
      ['annotation', 'data', 'dataSource', 'dbType', 'external', 'extDbType', 'lastRefreshTime', 'query', 'slowQuery', 'total'].sort(),
    );
    expect(res.body.dbType).toBe('postgres');
    expect(res.body.total).toBeNull();
    expect(res.body.annotation.measures['Orders.count']).toMatchObject({ title: 'Orders Count', shortTitle: 'Count', type: 'number' });
    expect(res.body.annotation.dimensions['Orders.status']).toMatchObject({ type: 'string' });
    expect(res.body.query.order).toEqual([{ id: 'Orders.count', desc: true }]);
    const counts = (res.body.data as Record<string, string>[]).map((r) => Number(r['Orders.count']));
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
    expect(typeof res.body.data[0]['Orders.count']).toBe('string');
  });

  it('answers queryType=multi with the multi envelope', async () => {
    const res = await load({ measures: ['Orders.count'] }, seedToken, { queryType: 'multi' });
    expect(res.status).toBe(200);
    expect(res.body.queryType).toBe('regularQuery');
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0].data[0]['Orders.count']).toBeDefined();
    expect(res.body.pivotQuery).toMatchObject({ measures: ['Orders.count'], queryType: 'regularQuery' });
    expect(res.body.slowQuery).toBe(false);
  });

  it('accepts POST with the query as an object or as a JSON string', async () => {
    const a = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', seedToken).send({ query: { measures: ['Orders.count'] } });
    const b = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', seedToken).send({ query: JSON.stringify({ measures: ['Orders.count'] }) });
    expect(a.status).toBe(200);
    expect(b.body.data).toEqual(a.body.data);
  });

  it('returns the total without limit and offset', async () => {
    const res = await load({ dimensions: ['Orders.status'], limit: 1, offset: 1, total: true }, signToken({ tenant_id: 2 }));
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.total).toBe(Number(await scalar('SELECT count(DISTINCT status)::text AS v FROM orders WHERE tenant_id = $1', [2])));
  });

  it('supports compact and columnar response formats', async () => {
    const compact = await load({ measures: ['Orders.count'], dimensions: ['Orders.status'], responseFormat: 'compact' });
    expect(compact.body.data.members).toEqual(['Orders.status', 'Orders.count']);
    expect(compact.body.data.dataset[0]).toHaveLength(2);
    const columnar = await load({ measures: ['Orders.count'], dimensions: ['Orders.status'], responseFormat: 'columnar' });
    expect(columnar.body.data.columns).toHaveLength(2);
    expect(columnar.body.data.columns[1]).toEqual(compact.body.data.dataset.map((r: unknown[]) => r[1]));
  });

  it('orders by the first dimension when there are no measures', async () => {
    const res = await load({ dimensions: ['Orders.status'] });
    const statuses = (res.body.data as Record<string, string>[]).map((r) => r['Orders.status']);
    expect(statuses).toEqual([...statuses].sort());
  });

  it('applies an explicit order, limit and offset', async () => {
    const res = await load({ dimensions: ['Orders.status'], order: [['Orders.status', 'desc']], limit: 2, offset: 1 }, signToken({ tenant_id: 2 }));
    const { rows } = await db.query<{ status: string }>('SELECT DISTINCT status FROM orders WHERE tenant_id = 2 ORDER BY status DESC LIMIT 2 OFFSET 1');
    expect((res.body.data as Record<string, string>[]).map((r) => r['Orders.status'])).toEqual(rows.map((r) => r.status));
  });
});

describe('/meta', () => {
  it('lists cubes with their visible members and hides primary keys', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/meta').set('Authorization', seedToken);
    expect(res.status).toBe(200);
    const orders = (res.body.cubes as { name: string; measures: { name: string }[]; dimensions: { name: string }[] }[]).find((c) => c.name === 'Orders');
    expect(orders?.measures.map((m) => m.name)).toContain('Orders.count');
    expect(orders?.dimensions.map((d) => d.name)).toContain('Orders.status');
    expect(orders?.dimensions.map((d) => d.name)).not.toContain('Orders.id');
  });
});

describe('validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown member', { measures: ['Orders.revnue'] }, /Unknown member: Orders\.revnue/],
    ['an unknown key', { measures: ['Orders.count'], renewQueries: true }, /"renewQueries" is not allowed/],
    ['a wrong type', { measures: 'Orders.count' }, /"measures"/],
    ['an unknown operator', { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'like', values: ['x'] }] }, /filters\[0\]/],
    ['a string limit', { measures: ['Orders.count'], limit: '10' }, /"limit"/],
    ['a limit above the maximum', { measures: ['Orders.count'], limit: 50_001 }, /limit/],
    ['an empty query', {}, /measures, dimensions or timeDimensions/],
    ['a non-numeric value for a number member', { measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: ['abc'] }] }, /expects numbers/],
    ['a bad date', { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: ['2024-13-45', '2024-01-01'] }] }, /Can't parse date/],
    ['a hidden member, exactly like an unknown one', { dimensions: ['Orders.id'] }, /^Unknown member: Orders\.id$/],
    ['a granularity on a non-time dimension', { dimensions: ['Orders.status.month'] }, /not a time dimension/],
    ['a missing filter value', { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals' }] }, /Values required/],
  ];
  it.each(cases)('rejects %s with a 400 that names it', async (_name, query, message) => {
    const res = await load(query);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    expect(typeof res.body.code).toBe('string');
    expect(Object.keys(res.body).sort()).toEqual(['code', 'error']);
  });

  it('rejects a missing or undecodable query param', async () => {
    const missing = await request(t.app).get('/cubejs-api/v1/load').set('Authorization', seedToken);
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: 'Query param is required', code: 'ERR_QUERY_PARAM_REQUIRED' });
    const broken = await request(t.app).get('/cubejs-api/v1/load').query({ query: '{"measures":' }).set('Authorization', seedToken);
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('ERR_QUERY_INVALID_JSON');
  });

  it('asks old clients to update for compare queries without queryType=multi', async () => {
    const res = await load({
      measures: ['Orders.count'],
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', compareDateRange: [['2024-01-01', '2024-01-31'], ['2024-02-01', '2024-02-28']] }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('query type is not supported by the client');
  });
});
