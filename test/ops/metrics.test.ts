/**
 * /metrics in Prometheus text after real traffic, who may read it, and the
 * Server-Timing header on data responses.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { pino } from 'pino';
import { auditMiddleware } from '../../src/audit/audit-middleware.js';
import { createAuditLog } from '../../src/audit/create-audit-log.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { observeRequests } from '../../src/metrics/observe-requests.js';
import request from 'supertest';
import { auditRecordOf } from '../../src/audit/audit-record.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import type { ApiScope } from '../../src/auth/auth-result.js';
import { createApiKeyStore } from '../../src/operator/create-api-key-store.js';

/** Parses Prometheus text into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

const loadQuery = { query: JSON.stringify({ measures: ['Orders.count'] }) };

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A tiny query budget, so a rate-limit rejection happens for one unique subject.
    t = await createTestApp({ env: { TESSERA_CACHE: 'false', TESSERA_QUERY_RATE_LIMIT: '2', TESSERA_TRUSTED_PROXIES: '127.0.0.1' } });
  });
  afterAll(() => t.close());

  it('counts requests by route and status, query time, auth failures, rate limits and pool use after traffic', async () => {
    const subject = `metrics-${Date.now()}`;
    const token = signToken({ sub: subject, u: { id: 42 }, tenant_id: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(t.app).get('/cubejs-api/v1/load').query(loadQuery).set('Authorization', token)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await request(t.app).get('/cubejs-api/v1/load').query(loadQuery).set('Authorization', 'not-a-token')).status).toBe(403);
    expect((await request(t.app).get('/cubejs-api/v1/meta')).status).toBe(403);
    expect((await request(t.app).get('/no/such/path')).status).toBe(404);

    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const m = parseMetrics(res.text);
    expect(Object.fromEntries(m)).toMatchObject({
      'tessera_http_requests_total{route="/cubejs-api/v1/load",status="200"}': 2,
      'tessera_http_requests_total{route="/cubejs-api/v1/load",status="429"}': 1,
      'tessera_http_requests_total{route="/cubejs-api/v1/load",status="403"}': 1,
      'tessera_http_requests_total{route="/cubejs-api/v1/meta",status="403"}': 1,
      'tessera_http_requests_total{route="unmatched",status="404"}': 1,
      'tessera_http_request_duration_seconds_count{route="/cubejs-api/v1/load"}': 4,
      'tessera_db_query_duration_seconds_count{outcome="ok"}': 2,
      'tessera_auth_failures_total{reason="ERR_AUTH_INVALID_TOKEN"}': 1,
      'tessera_auth_failures_total{reason="ERR_AUTH_MISSING"}': 1,
      'tessera_rate_limit_rejections_total{route="/cubejs-api/v1/load"}': 1,
      tessera_db_pool_in_use: 0,
      tessera_db_pool_waiting: 0,
    });
    expect(m.get('tessera_db_pool_idle')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a client that is not on loopback and has no API key', async () => {
    const res = await request(t.app).get('/metrics').set('x-forwarded-for', '203.0.113.9');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ERR_AUTH_MISSING');
    expect(res.text).not.toContain('tessera_http_requests_total');
    // A token is not an API key: it does not open /metrics either.
    const withToken = await request(t.app).get('/metrics').set('x-forwarded-for', '203.0.113.9').set('Authorization', `Bearer tsk_${'x'.repeat(40)}`);
    expect(withToken.status).toBeGreaterThanOrEqual(401);
    expect(withToken.text).not.toContain('tessera_http_requests_total');
  });

  it('sends Server-Timing with auth, compile, db and shape on data responses only', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/load').query(loadQuery).set('Authorization', signToken({ sub: `timing-${Date.now()}`, u: { id: 42 }, tenant_id: 2 }));
    expect(res.status).toBe(200);
    const stages = String(res.headers['server-timing']).split(', ').map((p) => p.split(';')[0]);
    expect(stages).toEqual(['auth', 'compile', 'db', 'shape']);
    for (const part of String(res.headers['server-timing']).split(', ')) expect(part).toMatch(/^\w+;dur=\d+(\.\d)?$/);
    expect((await request(t.app).get('/livez')).headers['server-timing']).toBeUndefined();
  });

  it('opens to an API key granted the metrics scope, from outside loopback, and not to a query-only key', async () => {
    const schema = `op_metrics_${randomBytes(4).toString('hex')}`;
    const k = await createTestApp({ env: { TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'Metrics pass 1!', TESSERA_META_SCHEMA: schema, TESSERA_TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const store = createApiKeyStore(k.deps.db.knex, schema);
      // Granted directly in the store: the key API's scope list does not offer metrics yet.
      const scraper = await store.create({ name: 'scraper', scopes: ['metrics'] as unknown as ApiScope[], securityContext: {}, expiresAt: null }, new Date());
      const reader = await store.create({ name: 'reader', scopes: ['query'], securityContext: {}, expiresAt: null }, new Date());
      const outside = { 'x-forwarded-for': '203.0.113.9' };
      const ok = await request(k.app).get('/metrics').set(outside).set('x-api-key', scraper.key);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE tessera_http_requests_total counter');
      const refused = await request(k.app).get('/metrics').set(outside).set('x-api-key', reader.key);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('ERR_AUTH_SCOPE');
      expect(refused.text).not.toContain('tessera_http_requests_total');
    } finally {
      await k.deps.db.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await k.close();
    }
  });
});

describe('cache metrics', () => {
  it('count the hit or miss a request notes on its audit record, with the audit log off', async () => {
    const metrics = createMetrics();
    const app = express();
    app.use(observeRequests(metrics));
    app.use(auditMiddleware(createAuditLog(undefined, { logger: pino({ level: 'silent' }) }), { kind: 'data', claimValues: [] }));
    // What the result cache does for each lookup: note the outcome on the request's record.
    app.get('/load', (req: express.Request, res: express.Response) => {
      auditRecordOf(res)!.cache = req.query.hit === '1' ? 'hit' : 'miss';
      res.json({ data: [] });
    });
    for (const hit of ['1', '1', '0']) expect((await request(app).get('/load').query({ hit })).status).toBe(200);
    const m = parseMetrics(await metrics.registry.metrics());
    expect(m.get('tessera_cache_requests_total{result="hit"}')).toBe(2);
    expect(m.get('tessera_cache_requests_total{result="miss"}')).toBe(1);
  });
});
