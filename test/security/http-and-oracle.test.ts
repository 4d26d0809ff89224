/**
 * Classes: HTTP hygiene (no shared caching of tenant rows, a body limit that chunking cannot
 * dodge, a rate limit on anonymous callers, security-context values kept out of logs) and
 * filters that are not an oracle (a member the caller may not see is refused everywhere in the
 * query exactly like a member that does not exist).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/server/create-logger.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { signToken, userToken } from '../support/tokens.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const QUERY = JSON.stringify({ measures: ['Orders.count'] });

describe('authenticated answers are never cached by a shared proxy', () => {
  it.each([
    ['GET', '/cubejs-api/v1/load'],
    ['GET', '/cubejs-api/v1/sql'],
    ['GET', '/cubejs-api/v1/dry-run'],
    ['GET', '/cubejs-api/v1/meta'],
  ])('%s %s carries Cache-Control: no-store', async (_method, route) => {
    const res = await request(t.app).get(route).query({ query: QUERY }).set('Authorization', userToken(42));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('carries no-store on refusals too', async () => {
    const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: QUERY }).set('Authorization', signToken({ sub: 'x' }));
    expect(res.status).toBe(403);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('the body limit', () => {
  it('holds for a chunked body without Content-Length, with a 4xx and no 5xx', async () => {
    const server = http.createServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/cubejs-api/v1/load',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', authorization: userToken(42) },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        // The server may close the connection once the limit is crossed.
        req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(413) : reject(e)));
        const chunk = `"${'x'.repeat(64 * 1024)}",`;
        req.write('{"query":{"measures":["Orders.count"]},"pad":[');
        for (let i = 0; i < 40; i += 1) req.write(chunk);
        req.end('"end"]}');
      });
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('anonymous callers', () => {
  it('are rate limited per client address, while a valid token is not', async () => {
    const limited = await createTestApp({
      env: {
        CUBEJS_API_SECRET: undefined,
        TESSERA_ANONYMOUS_RATE_LIMIT: '3',
        TESSERA_META_SCHEMA: `anon_${Date.now().toString(36)}`,
        TESSERA_TRUSTED_PROXIES: '127.0.0.1,::1',
      },
    });
    try {
      const from = (ip: string) => request(limited.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Products.count'] }) }).set('X-Forwarded-For', ip);
      for (let i = 0; i < 3; i += 1) expect((await from('203.0.113.7')).status).toBe(200);
      const blocked = await from('203.0.113.7');
      expect([blocked.status, blocked.body.code]).toEqual([429, 'ERR_RATE_LIMITED']);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await from('198.51.100.9')).status).toBe(200);
      // Failed authentications count too.
      for (let i = 0; i < 3; i += 1) await from('192.0.2.44').set('Authorization', 'garbage');
      expect((await from('192.0.2.44').set('Authorization', 'garbage')).status).toBe(429);
      await limited.deps.db.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [limited.config.operator.metaSchema ?? '']);
    } finally {
      await limited.close();
    }
  });
});

describe('logs', () => {
  it('redact security-context values wherever they are logged', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const logger = createLogger({ level: 'info', destination });
    logger.info({ securityContext: { tenant_id: 31337 }, auth: { rawContext: { tenant_id: 31337 }, securityContext: { email: 'a@b.c' } } }, 'x');
    logger.info({ security_context: { tenant_id: 31337 } }, 'y');
    const log = lines.join('\n');
    expect(log).not.toContain('31337');
    expect(log).not.toContain('a@b.c');
    expect(log).toContain('[redacted]');
  });
});

describe('a member the caller may not see', () => {
  const load = (query: object) =>
    request(t.app).post('/cubejs-api/v1/load').set('Authorization', userToken(42)).send({ query });
  const unknown = (member: string) => ({ error: `Unknown member: ${member}`, code: 'ERR_QUERY_UNKNOWN_MEMBER' });

  it.each([
    ['a filter', { measures: ['Orders.count'], filters: [{ member: 'Users.id', operator: 'equals', values: ['42'] }] }],
    ['a nested or filter', { measures: ['Orders.count'], filters: [{ or: [{ member: 'Orders.status', operator: 'set' }, { dimension: 'Users.id', operator: 'gt', values: ['0'] }] }] }],
    ['order', { measures: ['Orders.count'], order: [['Users.id', 'asc']] }],
    ['a time dimension without granularity', { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Users.id', dateRange: ['2024-01-01', '2024-02-01'] }] }],
    ['a dimension', { measures: ['Orders.count'], dimensions: ['Users.id'] }],
  ])('is refused in %s with the same answer as a member that does not exist', async (_where, query) => {
    const hidden = await load(query);
    const missing = await load(JSON.parse(JSON.stringify(query).replaceAll('Users.id', 'Users.idx')) as object);
    expect([hidden.status, hidden.body]).toEqual([400, unknown('Users.id')]);
    expect([missing.status, missing.body]).toEqual([400, unknown('Users.idx')]);
  });

  it('answers 200 with rows for the same query on a public member, so the refusal is about visibility', async () => {
    const res = await load({ measures: ['Orders.count'], filters: [{ member: 'Orders.userId', operator: 'equals', values: ['42'] }] });
    expect(res.status).toBe(200);
  });
});
