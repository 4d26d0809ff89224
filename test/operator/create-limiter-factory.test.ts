import knexFactory, { type Knex } from 'knex';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeLimiterConnections, createLimiterFactory } from '../../src/operator/create-limiter-factory.js';
import { migrateOperatorSchema } from '../../src/operator/migrate-operator-schema.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { uniqueSchema } from './operator-fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function outcome(promise: Promise<RateLimiterRes>): Promise<'allowed' | 'limited'> {
  try {
    await promise;
    return 'allowed';
  } catch (e) {
    if (e instanceof RateLimiterRes) return 'limited';
    throw e;
  }
}

describe('limiter counters', () => {
  // Two knex instances stand for two Tessera processes with their own pools.
  let first: Knex;
  let second: Knex;
  const schema = uniqueSchema('limits_unit');

  beforeAll(async () => {
    const url = testDatabaseUrl();
    first = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
    second = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
    await migrateOperatorSchema(first, { schema });
  });

  afterAll(async () => {
    await closeLimiterConnections();
    await first.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await Promise.all([first.destroy(), second.destroy()]);
  });

  it('are shared through PostgreSQL by limiters built on different pools', async () => {
    const spec = { name: 'shared', points: 3, durationSec: 60 };
    const a = createLimiterFactory({ knex: first, schema })(spec);
    const b = createLimiterFactory({ knex: second, schema })(spec);
    const results = [await outcome(a.consume('k')), await outcome(b.consume('k')), await outcome(a.consume('k')), await outcome(b.consume('k'))];
    expect(results).toEqual(['allowed', 'allowed', 'allowed', 'limited']);
  });

  it('keep separate counts for differently named limiters on the same key', async () => {
    const a = createLimiterFactory({ knex: first, schema })({ name: 'one', points: 1, durationSec: 60 });
    const b = createLimiterFactory({ knex: first, schema })({ name: 'two', points: 1, durationSec: 60 });
    expect([await outcome(a.consume('k')), await outcome(b.consume('k'))]).toEqual(['allowed', 'allowed']);
  });

  it('do not clash when two metadata schemas share one pool', async () => {
    const other = uniqueSchema('limits_other');
    await migrateOperatorSchema(first, { schema: other });
    try {
      const a = createLimiterFactory({ knex: first, schema })({ name: 'pool', points: 1, durationSec: 60 });
      const b = createLimiterFactory({ knex: first, schema: other })({ name: 'pool', points: 1, durationSec: 60 });
      expect([await outcome(a.consume('k')), await outcome(b.consume('k'))]).toEqual(['allowed', 'allowed']);
    } finally {
      await first.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [other]);
    }
  });

  it('are shared through Redis when a Redis URL is configured', async () => {
    const spec = { name: `redis_${Date.now()}`, points: 2, durationSec: 60 };
    const a = createLimiterFactory({ knex: first, schema, redisUrl: REDIS_URL })(spec);
    const b = createLimiterFactory({ knex: second, schema, redisUrl: REDIS_URL })(spec);
    const results = [await outcome(a.consume('k')), await outcome(b.consume('k')), await outcome(a.consume('k'))];
    expect(results).toEqual(['allowed', 'allowed', 'limited']);
    // Nothing reached the PostgreSQL table.
    const rows = await first.withSchema(schema).table('rate_limits').where('key', 'like', `${spec.name}%`);
    expect(rows).toEqual([]);
  });
});
