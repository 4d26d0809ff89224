/**
 * Tessera behind PgBouncer in transaction pooling mode (the Debian package,
 * started here as a child process on a free 127.0.0.1 port with its own ini):
 * distinct SQL texts, session settings per transaction, the statement
 * timeout, and cancellation all work. Skips, saying why, only when the
 * pgbouncer binary is not installed (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-database.js';
import type { Database } from '../../src/db/database.js';
import { createTestApp, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { tenantOfUser, userToken } from '../support/tokens.js';
import { failure } from '../support/engine-failure.js';

const binary = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => spawnSync(p, ['--version']).status === 0);
if (!binary) console.warn('Skipping the PgBouncer tests: no pgbouncer binary (apt-get install -y pgbouncer; .ci/run does it).');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, limitMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port}`);
}

interface Bouncer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts pgbouncer in transaction mode in front of the test database. */
async function startPgBouncer(databaseUrl: string): Promise<Bouncer> {
  const target = new URL(databaseUrl);
  const dbname = target.pathname.slice(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-pgbouncer-'));
  // pgbouncer refuses to run as root; it drops to `nobody`, who must read and write here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const login = [`user=${decodeURIComponent(target.username || 'postgres')}`, target.password ? `password=${decodeURIComponent(target.password)}` : ''].join(' ');
  const ini = path.join(dir, 'pgbouncer.ini');
  writeFileSync(ini, [
    '[databases]',
    `${dbname} = host=${target.hostname} port=${target.port || 5432} dbname=${dbname} ${login}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'auth_type = any',
    'pool_mode = transaction',
    'default_pool_size = 4',
    'max_client_conn = 500',
    'unix_socket_dir =',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    '',
  ].join('\n'));
  chmodSync(ini, 0o644);
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', ini] : [ini];
  const child: ChildProcess = spawn(binary!, args, { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  return {
    url: `postgres://tessera@127.0.0.1:${port}/${dbname}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const silent = pino({ level: 'silent' });
const pooledSettings = { poolMax: 4, statementTimeoutMs: 1500, connectionTimeoutMs: 3000, transactionPooling: true };

describe.skipIf(!binary)('behind PgBouncer in transaction pooling mode', () => {
  let bouncer: Bouncer;
  let direct: pg.Client;
  beforeAll(async () => {
    bouncer = await startPgBouncer(testDatabaseUrl());
    direct = new pg.Client({ connectionString: testDatabaseUrl() });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await bouncer?.stop();
  });

  describe('the database layer', () => {
    let db: Database;
    beforeAll(() => {
      db = createDatabase({ ...pooledSettings, url: bouncer.url }, silent);
    });
    afterAll(async () => {
      await db.close();
    });

    it('runs every statement with the UTC time zone and the statement timeout, whichever server connection it lands on', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () =>
        db.query({ sql: "select current_setting('TimeZone') as tz, current_setting('statement_timeout') as st, timestamptz '2024-06-01 02:00:00+02' as ts", params: [] })));
      for (const a of answers) expect(a.rows[0]).toEqual({ tz: 'UTC', st: '1500ms', ts: '2024-06-01 00:00:00+00' });
    });

    it('answers a statement past the statement timeout with ERR_DB_TIMEOUT, and the connection serves again', async () => {
      expect((await failure(db.query({ sql: 'select pg_sleep(5)', params: [] }))).code).toBe('ERR_DB_TIMEOUT');
      expect((await db.query({ sql: 'select 1 as one', params: [] })).rows).toEqual([{ one: 1 }]);
    });

    it('cancels a statement through PgBouncer when its signal aborts', async () => {
      const slow = createDatabase({ ...pooledSettings, statementTimeoutMs: 60_000, url: bouncer.url }, silent);
      try {
        const controller = new AbortController();
        const running = slow.query({ sql: 'select pg_sleep(19.5)', params: [] }, { signal: controller.signal }).catch((e: unknown) => e);
        const active = async () => (await direct.query("select count(*)::int as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and strpos(query, 'pg_sleep(19.5)') > 0")).rows[0].n as number;
        while ((await active()) === 0) await new Promise((r) => setTimeout(r, 25));
        const aborted = performance.now();
        controller.abort(new Error('client gone'));
        expect(((await running) as Error).message).toBe('client gone');
        while ((await active()) > 0) await new Promise((r) => setTimeout(r, 25));
        expect(performance.now() - aborted).toBeLessThan(1500);
      } finally {
        await slow.close();
      }
    });

    it('fails to connect without TESSERA_DB_TRANSACTION_POOLING, since PgBouncer refuses the session startup parameters', async () => {
      const plain = createDatabase({ ...pooledSettings, transactionPooling: false, url: bouncer.url }, silent);
      try {
        expect((await failure(plain.query({ sql: 'select 1', params: [] }))).code).toBe('ERR_DB_UNAVAILABLE');
      } finally {
        await plain.close();
      }
    });
  });

  describe('the HTTP API', () => {
    let t: TestApp;
    beforeAll(async () => {
      // The PostgreSQL store of the rate limiter names its prepared statements, which transaction pooling cannot keep; Redis holds the counters here.
      t = await createTestApp({ env: { DATABASE_URL: bouncer.url, TESSERA_DB_TRANSACTION_POOLING: 'true', TESSERA_DB_POOL_MAX: '8', REDIS_URL: 'redis://127.0.0.1:6379' } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers 60 concurrent queries with 60 distinct SQL texts, each with exactly the rows of its user', async () => {
      const users = Array.from({ length: 60 }, (_, i) => i + 1);
      const answers = await Promise.all(users.map((user) => {
        // A different number of statuses per user makes every SQL text different.
        const statuses = ['completed', 'shipped', 'pending', 'cancelled', 'returned'].slice(0, (user % 5) + 1).concat(Array.from({ length: user }, (_, k) => `none-${k}`));
        const query = { measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values: statuses }] };
        return request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify(query) }).set('Authorization', userToken(user)).then((res) => ({ user, statuses, res }));
      }));
      for (const { user, statuses, res } of answers) {
        expect(res.status).toBe(200);
        const { rows } = await direct.query('select count(*)::text as n from tessera_demo.orders where user_id = $1 and tenant_id = $2 and status = any($3)', [user, tenantOfUser(user), statuses]);
        expect(res.body.data).toEqual([{ 'Orders.count': rows[0].n }]);
      }
    });
  });
});
