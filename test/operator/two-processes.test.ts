/**
 * Two real `tessera serve` processes on one database, as behind a load
 * balancer: keys, revocations, sessions and limiter counters must agree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';
import { TEST_SECRET, userToken } from '../support/tokens.js';
import { uniqueSchema } from './operator-fixtures.js';

const MODEL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
const PASSWORD = 'Cluster admin pass 1!';
const NEW_PASSWORD = 'Cluster admin pass 2?';

interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
}

/** Starts `tsx src/cli/main.ts serve` on a free port and resolves once its banner names the port. */
function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['src/cli/main.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Tessera is listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}`, child });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`tessera serve exited with ${code} before listening:\n${output}`)));
  });
}

function stopServe(p: ServeProcess | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });
}

/** The environment of both processes of a pair: one database, one metadata schema, 600 s limit windows. */
const serveEnv = (schema: string, extra: Record<string, string>): Record<string, string> => ({
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: testDatabaseUrl(),
  CUBEJS_API_SECRET: TEST_SECRET,
  CUBEJS_SCHEMA_PATH: MODEL,
  LOG_LEVEL: 'silent',
  TESSERA_META_SCHEMA: schema,
  TESSERA_DB_POOL_MAX: '3',
  TESSERA_QUERY_RATE_WINDOW_SEC: '600',
  ...extra,
});

const load = (base: string, key: string) =>
  request(base)
    .get('/cubejs-api/v1/load')
    .query({ query: JSON.stringify({ measures: ['Orders.count'] }) })
    .set('X-API-Key', key);

describe('two Tessera processes on one database', () => {
  const schema = uniqueSchema('cluster');
  let a: ServeProcess | undefined;
  let b: ServeProcess | undefined;
  let cookie: string;
  const knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 } });

  beforeAll(async () => {
    const env = serveEnv(schema, {
      TESSERA_AUTH: 'local',
      TESSERA_ARGON2_MEMORY_KIB: '1024',
      TESSERA_QUERY_RATE_LIMIT: '4',
      TESSERA_LOGIN_MAX_FAILURES: '3',
    });
    // Both start at once, so they also race to migrate the metadata schema.
    [a, b] = await Promise.all([startServe(env), startServe(env)]);
    expect((await request(a.url).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(201);
    expect((await request(b.url).post('/api/auth/setup').send({ password: PASSWORD })).status).toBe(410);
    const login = await request(a.url).post('/api/auth/login').set('X-Forwarded-For', '203.0.113.50').send({ password: PASSWORD });
    cookie = String(login.headers['set-cookie']?.[0]).split(';')[0]!;
  });

  afterAll(async () => {
    await Promise.all([stopServe(a), stopServe(b)]);
    await knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await knex.destroy();
  });

  /** Every test's requests come from 127.0.0.1; failed setups and logins of earlier tests count there too. */
  const clearLoginCounters = () => knex.withSchema(schema).table('rate_limits').where('key', 'like', 'login:%').delete();

  it('accept a session issued by the other process', async () => {
    const res = await request(b!.url).get('/api/auth/session').set('Cookie', cookie);
    expect(res.status).toBe(200);
  });

  it('share keys and stop a key revoked on one process at once on the other', async () => {
    const created = await request(a!.url).post('/api/keys').set('Cookie', cookie).send({ name: 'shared', scopes: ['query'], securityContext: { tenant_id: 2 } });
    expect(created.status).toBe(201);
    expect((await load(b!.url, created.body.key)).status).toBe(200);
    expect((await request(b!.url).delete(`/api/keys/${created.body.id}`).set('Cookie', cookie)).status).toBe(204);
    const afterRevoke = await load(a!.url, created.body.key);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.code).toBe('ERR_AUTH_INVALID_KEY');
  });

  it('share one query budget per key across both processes', async () => {
    const created = await request(a!.url).post('/api/keys').set('Cookie', cookie).send({ name: 'budget', scopes: ['query'], securityContext: { tenant_id: 1 } });
    const key = created.body.key as string;
    const remaining: string[] = [];
    for (const base of [a!.url, b!.url, a!.url, b!.url]) {
      const res = await load(base, key);
      expect(res.status).toBe(200);
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    const limited = await load(a!.url, key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('share one budget per token subject across both processes', async () => {
    const token = userToken(13);
    const statuses: number[] = [];
    for (const base of [a!.url, b!.url, a!.url, b!.url, a!.url]) {
      statuses.push((await request(base).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', token)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('keep a small budget exact under concurrent requests to both processes', async () => {
    // 4 per window is inside the limiter's headroom: every request is decided by the store.
    const token = userToken(14);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(i % 2 === 0 ? a!.url : b!.url).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', token),
      ),
    );
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(4);
    expect(statuses.filter((r) => r.status === 429)).toHaveLength(6);
  });

  it('share the failed-login count, and a spoofed X-Forwarded-For does not reset it', async () => {
    await clearLoginCounters();
    const statuses: number[] = [];
    for (const [base, ip] of [[a!.url, '198.51.100.1'], [b!.url, '198.51.100.2'], [a!.url, '198.51.100.3']] as const) {
      statuses.push((await request(base).post('/api/auth/login').set('X-Forwarded-For', ip).send({ password: 'Wrong pass 0!' })).status);
    }
    const blocked = await request(b!.url).post('/api/auth/login').set('X-Forwarded-For', '198.51.100.4').send({ password: PASSWORD });
    expect(statuses).toEqual([401, 401, 401]);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('end every session on both processes when the password changes on one', async () => {
    // The login limiter above blocks this machine's address, so its counter is cleared to log in again.
    await clearLoginCounters();
    const fresh = await request(b!.url).post('/api/auth/login').send({ password: PASSWORD });
    const second = String(fresh.headers['set-cookie']?.[0]).split(';')[0]!;
    const change = await request(b!.url).put('/api/auth/password').set('Cookie', second).send({ current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(change.status).toBe(200);
    for (const [base, session] of [[a!.url, cookie], [b!.url, cookie], [a!.url, second]] as const) {
      expect((await request(base).get('/api/auth/session').set('Cookie', session)).status).toBe(401);
    }
    expect((await request(a!.url).post('/api/auth/login').send({ password: NEW_PASSWORD })).status).toBe(200);
  });
});

describe('two Tessera processes sharing query budgets with local grants', () => {
  // 100 per window: local grants up to 80 (headroom 20), at most 2 (the lease) held per process.
  // The flush timer is an hour, so counts reach the store only by writes near the limit and at shutdown.
  const schema = uniqueSchema('cluster_batch');
  let a: ServeProcess | undefined;
  let b: ServeProcess | undefined;
  const knex = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 } });
  const subjects = Array.from({ length: 40 }, (_, i) => 2000 + i);
  const heavy = 3000;
  const query = (base: string, user: number) =>
    request(base).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', userToken(user));

  beforeAll(async () => {
    const env = serveEnv(schema, { TESSERA_QUERY_RATE_LIMIT: '100', TESSERA_RATE_LIMIT_FLUSH_MS: '3600000' });
    [a, b] = await Promise.all([startServe(env), startServe(env)]);
  });

  afterAll(async () => {
    await Promise.all([stopServe(a), stopServe(b)]);
    await knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await knex.destroy();
  });

  it('let one subject go past its limit by at most 2 × lease, then refuse on both', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 65; i++) for (const base of [a!.url, b!.url]) statuses.push((await query(base, heavy)).status);
    const granted = statuses.filter((s) => s === 200).length;
    expect(granted).toBeGreaterThanOrEqual(100);
    expect(granted).toBeLessThanOrEqual(104);
    expect(statuses.slice(-10)).toEqual(Array<number>(10).fill(429));
    expect(new Set(statuses)).toEqual(new Set([200, 429]));
  });

  it('answer new subjects on both without losing a count: shutdown writes what each process held', async () => {
    for (const user of subjects) {
      for (const base of [a!.url, b!.url]) {
        const res = await query(base, user);
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-remaining']).toBe('99');
      }
    }
    // Nothing for these subjects reached the store yet: every grant was local.
    const early = await knex.withSchema(schema).table('rate_limits').where('key', 'like', 'query:sub:%').select('key');
    expect(early).toHaveLength(1);

    await Promise.all([stopServe(a), stopServe(b)]);
    const rows = await knex.withSchema(schema).table('rate_limits').where('key', 'like', 'query:sub:%').select('key', 'points');
    expect(rows).toHaveLength(subjects.length + 1);
    const points = rows.map((r) => Number(r.points)).sort((x, y) => x - y);
    // Each new subject: one request on each process; the heavy one: all its 130, refused ones included.
    expect(points).toEqual([...Array<number>(subjects.length).fill(2), 130]);
  });
});
