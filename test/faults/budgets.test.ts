/**
 * Every budget refuses with 400 ERR_QUERY_LIMIT_EXCEEDED naming its config key,
 * before the database, whatever the input's depth or size.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors/engine-error.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';

const token = userToken(42);
const load = (t: TestApp, query: unknown) =>
  request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
const loadGet = (t: TestApp, text: string) =>
  request(t.app).get('/cubejs-api/v1/load').query({ query: text }).set('Authorization', token);

const statusFilter = (values: unknown[], operator = 'equals') => ({ member: 'Orders.status', operator, values });

/** `{and: [{or: [ … leaf … ]}]}` nested `levels` deep, built without recursion. */
function nested(levels: number): unknown {
  let node: unknown = statusFilter(['completed']);
  for (let i = 0; i < levels; i += 1) node = { [i % 2 === 0 ? 'and' : 'or']: [node] };
  return node;
}

function expectBudget(res: request.Response, key: string): void {
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('ERR_QUERY_LIMIT_EXCEEDED');
  expect(res.body.error).toContain(key);
  expect(Object.keys(res.body).sort()).toEqual(['code', 'error']);
}

describe('query budgets with the default limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a filter nested 20 levels deep (the default depth budget)', async () => {
    const res = await load(t, { measures: ['Orders.count'], filters: [nested(19)] });
    expect(res.status).toBe(200);
  });

  it('refuses and/or nesting one level past the budget, naming TESSERA_MAX_FILTER_DEPTH', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [nested(20)] }), 'TESSERA_MAX_FILTER_DEPTH');
  });

  it('refuses and/or nesting 600 levels deep with 400, not a stack overflow', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [nested(600)] }), 'TESSERA_MAX_FILTER_DEPTH');
  });

  it('refuses a query string nested 50,000 levels deep with 400', async () => {
    const text = `{"measures":["Orders.count"],"filters":[${'{"and":['.repeat(50_000)}${']}'.repeat(50_000)}]}`;
    // Too long for a URL; the same text as a POST body string exercises the same decoder (and fits the 1 MB body).
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query: text });
    expectBudget(res, 'TESSERA_MAX_FILTER_DEPTH');
  });

  it('refuses bare JSON arrays nested 100,000 levels deep with 400', async () => {
    const res = await request(t.app)
      .post('/cubejs-api/v1/load')
      .set('Authorization', token)
      .set('content-type', 'application/json')
      .send(`{"query":{"measures":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
    expectBudget(res, 'TESSERA_MAX_FILTER_DEPTH');
  });

  it('refuses a deeply nested query on /sql and /dry-run too', async () => {
    for (const path of ['/cubejs-api/v1/sql', '/cubejs-api/v1/dry-run']) {
      const res = await request(t.app).post(path).set('Authorization', token).send({ query: { measures: ['Orders.count'], filters: [nested(50)] } });
      expectBudget(res, 'TESSERA_MAX_FILTER_DEPTH');
    }
  });

  it('refuses 65,536 values in one filter with 400 naming TESSERA_MAX_FILTER_VALUES, not 503', async () => {
    const values = Array.from({ length: 65_536 }, (_, i) => `s${i}`);
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [statusFilter(values)] }), 'TESSERA_MAX_FILTER_VALUES');
  });

  it('refuses more bound parameters than TESSERA_MAX_QUERY_PARAMS spread over many filters', async () => {
    const values = Array.from({ length: 8000 }, (_, i) => `s${i}`);
    const filters = [1, 2, 3, 4].map(() => statusFilter(values));
    expectBudget(await load(t, { measures: ['Orders.count'], filters }), 'TESSERA_MAX_QUERY_PARAMS');
  });

  it('refuses a filter value longer than TESSERA_MAX_VALUE_LENGTH', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [statusFilter(['x'.repeat(10_001)])] }), 'TESSERA_MAX_VALUE_LENGTH');
  });

  it('refuses a date range longer than TESSERA_MAX_DATE_LENGTH', async () => {
    const query = { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: `last ${'9'.repeat(120)} days` }] };
    expectBudget(await load(t, query), 'TESSERA_MAX_DATE_LENGTH');
  });

  it('refuses a date filter value longer than TESSERA_MAX_DATE_LENGTH', async () => {
    const query = { measures: ['Orders.count'], filters: [{ member: 'Orders.createdAt', operator: 'beforeDate', values: [`2024-01-01${' '.repeat(200)}`] }] };
    expectBudget(await load(t, query), 'TESSERA_MAX_DATE_LENGTH');
  });

  it('refuses a compare request whose ranges could return more rows than TESSERA_MAX_MULTI_QUERY_ROWS', async () => {
    const ranges = ['2020', '2021', '2022', '2023', '2024', '2025'].map((y) => [`${y}-01-01`, `${y}-12-31`]);
    const query = { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year', compareDateRange: ranges }] };
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query, queryType: 'multi' });
    expectBudget(res, 'TESSERA_MAX_MULTI_QUERY_ROWS');
  });

  it('answers the same compare request when its limit keeps the total under the budget', async () => {
    const ranges = ['2020', '2021', '2022', '2023', '2024', '2025'].map((y) => [`${y}-01-01`, `${y}-12-31`]);
    const query = { measures: ['Orders.count'], limit: 100, timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year', compareDateRange: ranges }] };
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query, queryType: 'multi' });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(6);
  });

  it('refuses a blending request whose queries could return more rows than TESSERA_MAX_MULTI_QUERY_ROWS', async () => {
    const one = { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }], limit: 20_000 };
    const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query: [one, one, one], queryType: 'multi' });
    expectBudget(res, 'TESSERA_MAX_MULTI_QUERY_ROWS');
  });

  for (const operator of ['contains', 'startsWith', 'endsWith', 'notContains', 'gt', 'lte']) {
    it(`refuses ${operator} with only [null] as 400 ERR_QUERY_INVALID`, async () => {
      const member = operator.startsWith('g') || operator.startsWith('l') ? 'Orders.amount' : 'Orders.status';
      const res = await load(t, { measures: ['Orders.count'], filters: [{ member, operator, values: [null] }] });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ERR_QUERY_INVALID');
      expect(res.body.error).toMatch(/not null/);
    });
  }

  it('still answers contains with a null next to a real value', async () => {
    const res = await load(t, { measures: ['Orders.count'], filters: [statusFilter(['comp', null], 'contains')] });
    expect(res.status).toBe(200);
  });
});

describe('query budgets set by their config keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        TESSERA_MAX_FILTERS: '3',
        TESSERA_MAX_FILTER_VALUES: '5',
        TESSERA_MAX_QUERY_PARAMS: '8',
        TESSERA_MAX_MEMBERS: '3',
        TESSERA_MAX_FILTER_DEPTH: '2',
        TESSERA_MAX_VALUE_LENGTH: '10',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a query exactly at each configured budget', async () => {
    const res = await load(t, {
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      order: { 'Orders.count': 'desc' },
      filters: [{ or: [statusFilter(['completed', 'shipped', 'a', 'b', '0123456789']), statusFilter(['x', 'y', 'z'])] }],
    });
    expect(res.status).toBe(200);
  });

  it('counts filters at every level against TESSERA_MAX_FILTERS', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [{ or: [statusFilter(['a']), statusFilter(['b']), statusFilter(['c'])] }] }), 'TESSERA_MAX_FILTERS');
  });

  it('refuses six values in one filter under TESSERA_MAX_FILTER_VALUES=5', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [statusFilter(['a', 'b', 'c', 'd', 'e', 'f'])] }), 'TESSERA_MAX_FILTER_VALUES');
  });

  it('refuses nine parameters under TESSERA_MAX_QUERY_PARAMS=8', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [statusFilter(['a', 'b', 'c', 'd', 'e']), statusFilter(['f', 'g', 'h', 'i'])] }), 'TESSERA_MAX_QUERY_PARAMS');
  });

  it('refuses four members under TESSERA_MAX_MEMBERS=3', async () => {
    expectBudget(await load(t, { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.status', 'Users.city'] }), 'TESSERA_MAX_MEMBERS');
  });

  it('refuses three levels of nesting under TESSERA_MAX_FILTER_DEPTH=2', async () => {
    expectBudget(await load(t, { measures: ['Orders.count'], filters: [{ and: [{ or: [{ and: [statusFilter(['a'])] }] }] }] }), 'TESSERA_MAX_FILTER_DEPTH');
  });

  it('refuses an eleven-character value under TESSERA_MAX_VALUE_LENGTH=10', async () => {
    expectBudget(await loadGet(t, JSON.stringify({ measures: ['Orders.count'], filters: [statusFilter(['01234567890'])] })), 'TESSERA_MAX_VALUE_LENGTH');
  });
});

describe('budget and timeout options', () => {
  const base = { NODE_ENV: 'test', CUBEJS_API_SECRET: 'x'.repeat(32) };

  it('documents a default for every budget', async () => {
    const config = await loadConfig({ env: base });
    expect(config.budgets).toEqual({
      maxFilterDepth: 20, maxFilters: 500, maxFilterValues: 10_000, maxParams: 30_000,
      maxValueLength: 10_000, maxDateLength: 100, maxMembers: 200, maxMultiQueryRows: 50_000,
    });
    expect(config.database.clientTimeoutMs).toBe(35_000);
    expect(config.database.tenantConcurrency).toBe(8);
    expect(config.database.queueDepth).toBe(100);
    expect(config.server).toEqual({ requestTimeoutMs: 40_000, shutdownGraceMs: 10_000, startupRetryMaxMs: 30_000 });
  });

  it('refuses a client timeout that is not longer than the statement timeout', async () => {
    const err = await loadConfig({ env: { ...base, TESSERA_DB_STATEMENT_TIMEOUT_MS: '5000', TESSERA_DB_CLIENT_TIMEOUT_MS: '5000' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe('TESSERA_DB_CLIENT_TIMEOUT_MS');
  });

  it('refuses a multi-query row budget above the query row cap', async () => {
    const err = await loadConfig({ env: { ...base, CUBEJS_DB_QUERY_LIMIT: '1000', TESSERA_MAX_MULTI_QUERY_ROWS: '2000' } }).catch((e: unknown) => e);
    expect((err as ConfigError).option).toBe('TESSERA_MAX_MULTI_QUERY_ROWS');
  });

  it('refuses more bound parameters than PostgreSQL can take', async () => {
    const err = await loadConfig({ env: { ...base, TESSERA_MAX_QUERY_PARAMS: '70000' } }).catch((e: unknown) => e);
    expect((err as ConfigError).option).toBe('TESSERA_MAX_QUERY_PARAMS');
  });
});
