import pg from 'pg';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRefused, runProcess, type Spawned } from '../support/run-process.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { DEMO_SCHEMA_PATH, REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';
import { TEST_SECRET, userToken } from '../support/tokens.js';

/** Runs `tessera <args>` as a real process with only the given environment. */
function runTessera(args: string[], env: Record<string, string>): Spawned {
  return runProcess(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], env);
}

describe('tessera serve as a process', () => {
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('on SIGTERM stops accepting, finishes the request in flight, closes the pool and exits 0', async () => {
    const proxy = await startTcpProxy(testDatabaseUrl());
    proxies.push(proxy);
    const tessera = runTessera(['serve'], {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: proxy.url,
      CUBEJS_API_SECRET: TEST_SECRET,
      CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH,
      LOG_LEVEL: 'info',
      TESSERA_QUERY_RATE_LIMIT: '1000000',
    });
    try {
      const [, port] = await tessera.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      // Hold a query inside the database connection, so the request stays in flight (a held /readyz would
      // answer 503 after its one-second budget).
      const { arrived } = proxy.hold();
      const query = encodeURIComponent(JSON.stringify({ measures: ['Orders.count'] }));
      const inFlight = fetch(`${base}/cubejs-api/v1/load?query=${query}`, { headers: { connection: 'close', Authorization: userToken(42) } });
      await arrived;
      tessera.child.kill('SIGTERM');
      await tessera.waitFor(/shutting down/);

      expect(await connectRefused(Number(port))).toBe('ECONNREFUSED');
      proxy.release();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
      expect(await tessera.exited).toBe(0);
      expect(tessera.output()).toContain('"msg":"stopped"');
    } finally {
      tessera.child.kill('SIGKILL');
    }
  });

  it('prints a token and a curl line that work as printed: user 42 sees only their orders', async () => {
    const tessera = runTessera(['serve'], {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: testDatabaseUrl(),
      CUBEJS_API_SECRET: TEST_SECRET,
      CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH,
      TESSERA_SEED: 'true',
      LOG_LEVEL: 'info',
      // Rate-limit counters live in the shared test database, where other suites query as user 42 too.
      TESSERA_QUERY_RATE_LIMIT: '1000000',
    });
    try {
      await tessera.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const [, token, query, url] = await tessera.waitFor(/curl -H "Authorization: ([\w.-]+)" -G --data-urlencode '(query=[^']+)' (\S+)/);
      expect(tessera.output()).toContain('Dev token for demo user 42 (tenant 2)');
      // TESSERA_SEED=true runs the (idempotent) seed against DATABASE_URL at start-up.
      expect(tessera.output()).toMatch(/"msg":"demo dataset (seeded|already present)"/);

      // What curl -G --data-urlencode does: append the url-encoded pair as the query string.
      const eq = query!.indexOf('=');
      const qs = new URLSearchParams({ [query!.slice(0, eq)]: query!.slice(eq + 1) });
      const res = await fetch(`${url!.replace('localhost', '127.0.0.1')}?${qs}`, { headers: { Authorization: token! } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { 'Orders.count': string }[] };
      const client = new pg.Client({ connectionString: testDatabaseUrl() });
      await client.connect();
      const { rows } = await client.query("select count(*)::text as n from tessera_demo.orders where user_id = 42 and tenant_id = 2");
      await client.end();
      expect(body.data).toEqual([{ 'Orders.count': rows[0].n }]);
      tessera.child.kill('SIGTERM');
      expect(await tessera.exited).toBe(0);
    } finally {
      tessera.child.kill('SIGKILL');
    }
  });

  it('refuses to start in production without any way to verify tokens, and says why', async () => {
    const tessera = runTessera(['serve'], {
      NODE_ENV: 'production',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      TESSERA_AUTH: 'password',
      TESSERA_PASSWORD: 'correct-Horse-battery-9!',
    });
    expect(await tessera.exited).toBe(1);
    expect(tessera.output()).toMatch(/CUBEJS_API_SECRET: NODE_ENV=production and no CUBEJS_API_SECRET.*refusing to start/);
  });

  it('refuses to start when an option is malformed, naming it', async () => {
    const tessera = runTessera(['serve'], { PORT: 'eighty', DATABASE_URL: testDatabaseUrl() });
    expect(await tessera.exited).toBe(1);
    expect(tessera.output()).toContain('tessera: Invalid configuration option PORT: must be a whole number');
  });
});
