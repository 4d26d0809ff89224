/**
 * Two Tessera apps (replicas) sharing the Redis at 127.0.0.1:6379 under a prefix unique to this
 * run: a /load answered by one is a hit on the other, with the same rows.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeLimiterConnections } from '../../src/operator/create-limiter-factory.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';

const PREFIX = `tessera-test:i14:replicas:${randomUUID()}:`;
let a: TestApp;
let b: TestApp;
let admin: Redis;

beforeAll(async () => {
  // Hour-long freshness buckets, so the two requests never straddle a bucket boundary (10 s by default).
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', TESSERA_CACHE_REDIS_PREFIX: PREFIX, TESSERA_CACHE_DEFAULT_REFRESH_SEC: '3600' };
  [a, b] = await Promise.all([createTestApp({ env }), createTestApp({ env })]);
  admin = new Redis('redis://127.0.0.1:6379');
});
afterAll(async () => {
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  await Promise.all([a?.close(), b?.close()]);
  await closeLimiterConnections();
});

describe('replicas sharing Redis', () => {
  it('hit on one replica the entry another wrote, with the same rows', async () => {
    const query = JSON.stringify({ measures: ['Orders.count'], dimensions: ['Orders.status'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [String(Math.random()).slice(0, 6)] }] });
    const onA = await request(a.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', userToken(42));
    // Replica A writes to Redis just after answering.
    for (let i = 0; i < 1000 && (await admin.keys(`${PREFIX}*`)).length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const onB = await request(b.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', userToken(42));
    expect([onA.headers['x-tessera-cache'], onB.headers['x-tessera-cache']]).toEqual(['miss', 'hit']);
    expect(onB.body.data).toEqual(onA.body.data);
    const otherUser = await request(b.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', userToken(43));
    expect(otherUser.headers['x-tessera-cache']).toBe('miss');
  });
});
