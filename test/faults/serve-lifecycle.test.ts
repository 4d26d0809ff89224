/**
 * `tessera serve` as a real process: `npm start` drains on SIGTERM and exits 0
 * without waiting on idle keep-alive sockets; start-up with the database down
 * keeps `/livez` up and `/readyz` at 503 until it is reachable; a 431 answers
 * in Tessera's JSON shape.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/server/start-http-server.js';
import { connectRefused, runProcess } from '../support/run-process.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createTestApp, DEMO_SCHEMA_PATH, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { TEST_SECRET, userToken } from '../support/tokens.js';

const run = runProcess;

const serveEnv = (databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'test',
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  CUBEJS_API_SECRET: TEST_SECRET,
  CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH,
  LOG_LEVEL: 'info',
  TESSERA_QUERY_RATE_LIMIT: '1000000',
  // These tests are about statements in PostgreSQL: a cached answer would never reach the proxy.
  TESSERA_CACHE: 'false',
  ...extra,
});

function get(port: number, path: string, agent?: http.Agent, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

const loadPath = `/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify({ measures: ['Orders.count'] }))}`;

describe('npm start and SIGTERM', () => {
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('receives SIGTERM itself, finishes the request in flight, closes idle keep-alive sockets and exits 0 long before the grace period', async () => {
    const proxy = await startTcpProxy(testDatabaseUrl());
    proxies.push(proxy);
    const tessera = run('npm', ['start', '--silent'], serveEnv(proxy.url, { TESSERA_SHUTDOWN_GRACE_MS: '60000' }));
    try {
      const [, port] = await tessera.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const agent = new http.Agent({ keepAlive: true });
      // An idle keep-alive connection must not hold the drain open.
      expect((await get(Number(port), '/livez', agent)).status).toBe(200);
      const token = userToken(42);
      expect((await get(Number(port), loadPath, undefined, { Authorization: token })).status).toBe(200);

      const { arrived } = proxy.hold();
      const inFlight = get(Number(port), loadPath, agent, { Authorization: token });
      await arrived;
      const signalled = performance.now();
      tessera.child.kill('SIGTERM');
      await tessera.waitFor(/shutting down/);
      expect(await connectRefused(Number(port))).toBe('ECONNREFUSED');
      proxy.release();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe('close');
      expect(await tessera.exited).toBe(0);
      // The grace period is 60 s; a drain that waited on the idle socket would take that long.
      expect(performance.now() - signalled).toBeLessThan(30_000);
      expect(tessera.output()).toContain('"msg":"stopped"');
      agent.destroy();
    } finally {
      tessera.child.kill('SIGKILL');
    }
  }, 90_000);

  it('cuts a request that outlives the grace period, ends the pools and still exits 0', async () => {
    const proxy = await startTcpProxy(testDatabaseUrl());
    proxies.push(proxy);
    const tessera = run(process.execPath, ['bin/tessera.js', 'serve'], serveEnv(proxy.url, { TESSERA_SHUTDOWN_GRACE_MS: '500' }));
    try {
      const [, port] = await tessera.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const { arrived } = proxy.hold();
      const inFlight = get(Number(port), loadPath, undefined, { Authorization: userToken(42) }).catch((e: unknown) => e);
      await arrived;
      tessera.child.kill('SIGTERM');
      expect(await tessera.exited).toBe(0);
      expect(tessera.output()).toContain('in-flight requests did not finish in time');
      expect(await inFlight).toBeInstanceOf(Error);
    } finally {
      tessera.child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('start-up while the database is down', () => {
  it('keeps /livez up and /readyz at 503, retries with one-line logs, and serves once the database is back', async () => {
    const proxy = await startTcpProxy(testDatabaseUrl());
    proxy.cut();
    const tessera = run(process.execPath, ['bin/tessera.js', 'serve'], serveEnv(proxy.url, { TESSERA_DB_RETRY_MAX_MS: '1000', TESSERA_DB_CONNECTION_TIMEOUT_MS: '1000' }));
    try {
      const [, port] = await tessera.waitFor(/"port":(\d+)[^\n]*"msg":"tessera listening"/);
      await tessera.waitFor(/"attempt":2[^\n]*"msg":"database not reachable; retrying"/);
      expect((await get(Number(port), '/livez')).status).toBe(200);
      const ready = await get(Number(port), '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toEqual({ health: 'DOWN' });
      const load = await get(Number(port), loadPath, undefined, { Authorization: userToken(42) });
      expect(load.status).toBe(503);
      expect(load.headers['retry-after']).toBe('5');
      expect(JSON.parse(load.body)).toMatchObject({ code: 'ERR_DB_UNAVAILABLE' });
      // One JSON line per attempt, no stack trace.
      expect(tessera.output()).not.toMatch(/\n\s+at /);

      proxy.restore();
      await tessera.waitFor(/listening on http:\/\/localhost:/);
      expect((await get(Number(port), '/readyz')).status).toBe(200);
      expect((await get(Number(port), loadPath, undefined, { Authorization: userToken(42) })).status).toBe(200);
      tessera.child.kill('SIGTERM');
      expect(await tessera.exited).toBe(0);
    } finally {
      tessera.child.kill('SIGKILL');
      await proxy.close();
    }
  }, 90_000);
});

describe('requests the HTTP parser refuses', () => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp();
    server = createHttpServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  /** Writes raw bytes and reads the whole answer (the server closes after a parse error). */
  const raw = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });

  it('answers headers larger than the limit with 431 and a JSON {error, code}', async () => {
    const answer = await raw(`GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body!)).toEqual({ error: 'The request headers are too large.', code: 'ERR_BAD_REQUEST' });
  });

  it('answers a malformed request line with 400 and a JSON {error, code}', async () => {
    const answer = await raw('NOT A REQUEST\r\n\r\n');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body!)).toEqual({ error: 'The request is malformed.', code: 'ERR_BAD_REQUEST' });
  });
});
