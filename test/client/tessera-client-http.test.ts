/**
 * `tessera/client` against a real Tessera on an ephemeral port: rows match
 * hand-written SQL and Cube's own ResultSet, a really expired token is
 * refreshed once, and the server's error codes arrive as typed errors.
 */
import { ResultSet as CubeResultSet } from '@cubejs-client/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tessera, TesseraHttpError, type Query, type TokenRequest } from '../../src/client/index.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';
import { listen, monthsOf, ordersByMonth, type Listening, type MonthTotals } from './live-server.js';

const YEAR = 2025;
const byMonth: Query = {
  measures: ['Orders.count', 'Orders.totalAmount'],
  timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: [`${YEAR}-01-01`, `${YEAR}-12-31`] }],
};

let t: TestApp;
let devApp: TestApp;
let server: Listening;
let devServer: Listening;
let expected42: MonthTotals[];

beforeAll(async () => {
  [t, devApp] = await Promise.all([createTestApp(), createTestApp({ env: { CUBEJS_API_SECRET: undefined } })]);
  [server, devServer] = await Promise.all([listen(t.app), listen(devApp.app)]);
  expected42 = await ordersByMonth(testDatabaseUrl(), 42, YEAR);
});
afterAll(async () => {
  await Promise.all([server?.close(), devServer?.close()]);
  await Promise.all([t?.close(), devApp?.close()]);
});

describe('tessera client against Tessera', () => {
  it('loads user 42s monthly orders, equal to hand-written SQL and to Cube ResultSet pivots', async () => {
    const client = tessera(async () => userToken(42), { apiUrl: server.apiUrl });

    const resultSet = await client.load(byMonth);

    expect(resultSet.rawData().map((r) => [r['Orders.createdAt.month'], r['Orders.count'], r['Orders.totalAmount']])).toEqual(
      expected42.map((r) => [r.month, r.count, r.amount]),
    );
    const cube = new CubeResultSet(structuredClone(resultSet.response) as never);
    expect(resultSet.tablePivot()).toEqual(cube.tablePivot());
    expect(resultSet.chartPivot()).toEqual(cube.chartPivot());
    expect(resultSet.series()).toEqual(cube.series());
    expect(resultSet.chartPivot().map((p) => p.x)).toEqual(monthsOf(YEAR));
  });

  it('refreshes a token the server rejects as expired and retries the query once', async () => {
    const calls: TokenRequest[] = [];
    const client = tessera(
      (request) => {
        calls.push(request);
        return request.forceRefresh ? userToken(42) : userToken(42, { expiresIn: '-10s' });
      },
      { apiUrl: server.apiUrl },
    );

    const resultSet = await client.load(byMonth);

    expect(calls).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);
    expect(resultSet.rawData().map((r) => r['Orders.count'])).toEqual(expected42.map((r) => r.count));
  });

  it('casts numeric members with castNumerics', async () => {
    const resultSet = await tessera(userToken(42), { apiUrl: server.apiUrl, castNumerics: true }).load(byMonth);
    expect(resultSet.rawData()[0]).toMatchObject({
      'Orders.count': Number(expected42[0]!.count),
      'Orders.totalAmount': Number(expected42[0]!.amount),
    });
  });

  it('returns SQL with placeholders and the user and tenant as parameters', async () => {
    const sql = await tessera(userToken(42), { apiUrl: server.apiUrl }).sql(byMonth);
    expect(sql.sql).toMatch(/user_id = \$\d+ AND tenant_id = \$\d+/);
    expect(sql.params).toEqual(expect.arrayContaining([42, 2]));
  });

  it('returns meta and dry-run answers', async () => {
    const client = tessera(userToken(42), { apiUrl: server.apiUrl });
    const [meta, dry] = await Promise.all([client.meta(), client.dryRun(byMonth)]);
    expect(meta.cubes.map((c) => c.name)).toContain('Orders');
    expect(dry.normalizedQueries[0]?.measures).toEqual(['Orders.count', 'Orders.totalAmount']);
  });

  it('posts a query too long for a URL and gets the same rows as GET', async () => {
    const client = tessera(userToken(42), { apiUrl: server.apiUrl });
    const values = ['completed', 'shipped', 'processing', 'cancelled', ...Array.from({ length: 150 }, (_, i) => `x-${i}`)];
    const long: Query = { ...byMonth, filters: [{ member: 'Orders.status', operator: 'equals', values }] };

    const viaPost = await client.load(long);

    expect(viaPost.rawData().map((r) => r['Orders.count'])).toEqual(expected42.map((r) => r.count));
  });

  it.each([
    ['an unknown member', userToken(42), { measures: ['Orders.nope'] }, 400, 'ERR_QUERY_UNKNOWN_MEMBER'],
    ['a token signed with another secret', userToken(42, { secret: 'another-secret-another-secret-0123' }), byMonth, 403, 'ERR_AUTH_INVALID_TOKEN'],
    ['an expired fixed token', userToken(42, { expiresIn: '-10s' }), byMonth, 403, 'ERR_AUTH_TOKEN_EXPIRED'],
  ] as const)('turns %s into a TesseraHttpError with the server code', async (_label, token, query, status, code) => {
    const error = await tessera(token, { apiUrl: server.apiUrl })
      .load(query as Query)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraHttpError);
    expect(error).toMatchObject({ status, code });
  });

  it('reports a missing token as ERR_AUTH_MISSING when the server is not in dev mode', async () => {
    const error = await tessera(null, { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'ERR_AUTH_MISSING' });
  });

  it('queries a dev-mode server without any token', async () => {
    const resultSet = await tessera(null, { apiUrl: devServer.apiUrl }).load({ measures: ['Products.count'] });
    expect(resultSet.rawData()).toEqual([{ 'Products.count': '200' }]);
  });
});
