/**
 * The official `@cubejs-client/core`, unchanged, against a real Tessera on an
 * ephemeral port: load (ResultSet pivots), meta, sql and dryRun, with a string
 * token and with an async token provider. Numbers are checked against SQL
 * written by hand on the orders table.
 */
import cube, { RequestError, type Query } from '@cubejs-client/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';
import { listen, monthsOf, ordersByMonth, type Listening, type MonthTotals } from './live-server.js';

const YEAR = 2024;
const byMonth: Query = {
  measures: ['Orders.count', 'Orders.totalAmount'],
  timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: [`${YEAR}-01-01`, `${YEAR}-12-31`] }],
};

let t: TestApp;
let server: Listening;
let expected42: MonthTotals[];
let expected7: MonthTotals[];

beforeAll(async () => {
  t = await createTestApp();
  server = await listen(t.app);
  [expected42, expected7] = await Promise.all([
    ordersByMonth(testDatabaseUrl(), 42, YEAR),
    ordersByMonth(testDatabaseUrl(), 7, YEAR),
  ]);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

// What tablePivot must give: every month of the year, months without orders as 0.
const expectedTable = (rows: MonthTotals[]): Record<string, unknown>[] =>
  monthsOf(YEAR).map((month) => {
    const row = rows.find((r) => r.month === month);
    return { 'Orders.createdAt.month': month, 'Orders.count': row?.count ?? 0, 'Orders.totalAmount': row?.amount ?? 0 };
  });

describe('@cubejs-client/core against Tessera', () => {
  it('loads with a string token and tablePivot gives user 42 exactly their monthly orders', async () => {
    expect(expected42.length).toBeGreaterThan(0);
    const api = cube(userToken(42), { apiUrl: server.apiUrl });

    const resultSet = await api.load(byMonth);

    expect(resultSet.tablePivot()).toEqual(expectedTable(expected42));
    expect(resultSet.rawData().map((r) => r['Orders.createdAt.month'])).toEqual(expected42.map((r) => r.month));
  });

  it('loads with an async token provider and user 7 sees their own numbers, not user 42s', async () => {
    let providerCalls = 0;
    const api = cube(
      async () => {
        providerCalls++;
        await new Promise((r) => setImmediate(r));
        return userToken(7);
      },
      { apiUrl: server.apiUrl },
    );

    const resultSet = await api.load(byMonth);

    expect(resultSet.tablePivot()).toEqual(expectedTable(expected7));
    expect(expected7).not.toEqual(expected42);
    expect(providerCalls).toBe(1);
  });

  it('chartPivot has all twelve months with numbers parsed for charting', async () => {
    const api = cube(async () => userToken(42), { apiUrl: server.apiUrl });

    const chart = (await api.load(byMonth)).chartPivot();

    expect(chart.map((p) => p.x)).toEqual(monthsOf(YEAR));
    for (const point of chart) {
      const row = expected42.find((r) => r.month === point.x);
      expect(point['Orders.count']).toBe(row ? Number(row.count) : 0);
      expect(point['Orders.totalAmount']).toBe(row ? Number.parseFloat(row.amount) : 0);
    }
  });

  it('keeps numbers as strings by default and casts them with castNumerics', async () => {
    const plain = await cube(userToken(42), { apiUrl: server.apiUrl }).load(byMonth);
    const cast = await cube(userToken(42), { apiUrl: server.apiUrl, castNumerics: true }).load(byMonth);
    const first = expected42[0]!;

    expect(plain.rawData()[0]).toMatchObject({ 'Orders.count': first.count, 'Orders.totalAmount': first.amount });
    expect(cast.rawData()[0]).toMatchObject({ 'Orders.count': Number(first.count), 'Orders.totalAmount': Number(first.amount) });
  });

  it('sends a long query as POST and still gets the right rows', async () => {
    const statuses = ['completed', 'shipped', ...Array.from({ length: 150 }, (_, i) => `not-a-status-${i}`)];
    const query: Query = { ...byMonth, filters: [{ member: 'Orders.status', operator: 'equals', values: statuses }] };
    expect(encodeURIComponent(JSON.stringify(query)).length).toBeGreaterThan(2000);

    const resultSet = await cube(userToken(42), { apiUrl: server.apiUrl }).load(query);

    const counted = resultSet.rawData().reduce((sum, r) => sum + Number(r['Orders.count']), 0);
    const total = expected42.reduce((sum, r) => sum + Number(r.count), 0);
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThanOrEqual(total);
  });

  it('meta lists the Orders cube with its public members and hides the primary key', async () => {
    const meta = await cube(async () => userToken(42), { apiUrl: server.apiUrl }).meta();

    const orders = meta.cubes.find((c) => c.name === 'Orders');
    expect(orders?.measures.map((m) => m.name)).toEqual(expect.arrayContaining(['Orders.count', 'Orders.totalAmount']));
    expect(orders?.dimensions.map((d) => d.name)).toEqual(expect.arrayContaining(['Orders.status', 'Orders.createdAt']));
    expect(orders?.dimensions.map((d) => d.name)).not.toContain('Orders.id');
    expect(meta.resolveMember('Orders.count', 'measures')).toMatchObject({ name: 'Orders.count', type: 'number' });
  });

  it('sql returns placeholders in the text and the security context as bound parameters', async () => {
    const sqlQuery = await cube(userToken(42), { apiUrl: server.apiUrl }).sql(byMonth);

    const [text, params] = sqlQuery.rawQuery().sql;
    expect(sqlQuery.sql()).toBe(text);
    expect(text).toMatch(/user_id = \$\d+ AND tenant_id = \$\d+/);
    expect(text).not.toMatch(/\b42\b/);
    expect(params).toEqual(expect.arrayContaining([42, 2]));
  });

  it('dryRun returns the normalised query and pivot query', async () => {
    const dry = (await cube(async () => userToken(42), { apiUrl: server.apiUrl }).dryRun(byMonth)) as {
      queryType: string;
      normalizedQueries: { measures: string[]; timeDimensions: { dateRange: string[] }[] }[];
      pivotQuery: { queryType: string };
    };

    expect(dry.queryType).toBe('regularQuery');
    expect(dry.normalizedQueries[0]?.measures).toEqual(['Orders.count', 'Orders.totalAmount']);
    expect(dry.normalizedQueries[0]?.timeDimensions[0]?.dateRange).toEqual([`${YEAR}-01-01T00:00:00.000`, `${YEAR}-12-31T23:59:59.999`]);
    expect(dry.pivotQuery.queryType).toBe('regularQuery');
  });

  it('an unknown member is a RequestError with status 400 carrying the server code', async () => {
    const error = await cube(userToken(42), { apiUrl: server.apiUrl })
      .load({ measures: ['Orders.nope'] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ status: 400, response: { code: 'ERR_QUERY_UNKNOWN_MEMBER' } });
  });

  it('an expired token is a RequestError 403 with ERR_AUTH_TOKEN_EXPIRED, which Cube does not retry', async () => {
    let providerCalls = 0;
    const api = cube(
      async () => {
        providerCalls++;
        return userToken(42, { expiresIn: '-10s' });
      },
      { apiUrl: server.apiUrl },
    );

    const error = await api.load(byMonth).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ status: 403, response: { error: 'Token expired', code: 'ERR_AUTH_TOKEN_EXPIRED' } });
    expect(providerCalls).toBe(1);
  });
});
