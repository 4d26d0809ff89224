/**
 * The query limiter over HTTP against real PostgreSQL: many distinct subjects cost the limiter
 * no statement per request (their counts go out together), and one subject past its limit still
 * gets 429 with the X-RateLimit-* and Retry-After headers. The flush timer is set to an hour, so
 * the only flush is the one `closeApp` sends; limiter statements are counted on the app's pool.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../src/server/create-app.js';
import { userToken } from '../support/tokens.js';
import { countStatements } from './count-statements.js';
import { startOperatorApp, type OperatorApp } from './operator-fixtures.js';

const MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');

/** The statements on the app's metadata pool that touch the limiter table. */
const countLimiterStatements = (op: OperatorApp): string[] => countStatements(op.deps.db.knex, (text) => text.includes('rate_limits'));

const load = (op: OperatorApp, token: string) =>
  request(op.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', token);

describe('query limiter, many subjects', () => {
  let op: OperatorApp;
  let statements: string[];

  beforeAll(async () => {
    op = await startOperatorApp({ CUBEJS_SCHEMA_PATH: MODEL, TESSERA_QUERY_RATE_LIMIT: '600', TESSERA_RATE_LIMIT_FLUSH_MS: '3600000' });
    statements = countLimiterStatements(op);
  });
  afterAll(async () => op.close());

  it('answers 200 distinct subjects with no limiter statement, then writes all their counts in one', async () => {
    const subjects = Array.from({ length: 200 }, (_, i) => 1000 + i);
    for (const id of subjects) {
      const res = await load(op, userToken(id));
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('600');
      expect(res.headers['x-ratelimit-remaining']).toBe('599');
    }
    expect(statements).toEqual([]);

    await closeApp(op.app);
    expect(statements).toHaveLength(1);
    const rows = await op.deps.db.knex.withSchema(op.schema).table('rate_limits').where('key', 'like', 'query:sub:%').select('points');
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.points === 1)).toBe(true);
  });
});

describe('query limiter, one subject past its limit', () => {
  let op: OperatorApp;
  let statements: string[];

  beforeAll(async () => {
    op = await startOperatorApp({ CUBEJS_SCHEMA_PATH: MODEL, TESSERA_QUERY_RATE_LIMIT: '100', TESSERA_QUERY_RATE_WINDOW_SEC: '600', TESSERA_RATE_LIMIT_FLUSH_MS: '3600000' });
    statements = countLimiterStatements(op);
  });
  afterAll(async () => op.close());

  it('counts down exactly, answers 429 with the headers, and ran fewer statements than requests', async () => {
    const token = userToken(77);
    const remaining: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await load(op, token);
      expect(res.status).toBe(200);
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => String(99 - i)));
    const before = Math.floor(Date.now() / 1000);
    const limited = await load(op, token);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ code: 'ERR_RATE_LIMITED', error: expect.stringMatching(/^Too many queries; retry after \d+ seconds\.$/) });
    expect(limited.headers['x-ratelimit-limit']).toBe('100');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    const reset = Number(limited.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(before);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600);
    // Up to 80 (the limit less its headroom of 20): the first request local, the second written, then
    // two local (the lease) and one written, 26 times; from 80 on all 21 went to the store.
    expect(statements).toHaveLength(1 + 26 + 21);
    // Another subject keeps its own budget.
    expect((await load(op, userToken(78))).headers['x-ratelimit-remaining']).toBe('99');
  });
});
