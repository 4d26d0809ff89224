/**
 * The CLI as an operator meets it, as real processes: version and help on every
 * command, flags, a port in use, production without a database, the dev secret
 * shared by serve and token.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { runTessera } from '../support/run-tessera.js';
import { DEMO_SCHEMA_PATH, testDatabaseUrl } from '../support/test-app.js';
import { TEST_SECRET } from '../support/tokens.js';
import pkg from '../../package.json' with { type: 'json' };

const COMMANDS = ['serve', 'seed', 'token', 'rls'];
const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'tessera-cli-'));

async function finished(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const run = runTessera(args, env, cwd);
  const code = await run.exited;
  return { code, out: run.output(), err: run.stderr() };
}

describe('tessera --version and --help', () => {
  it('prints the package version, alone and after every command', async () => {
    for (const args of [['--version'], ['-v'], ...COMMANDS.map((c) => [c, '--version'])]) {
      const { code, out } = await finished(args);
      expect([args, code, out.trim()]).toEqual([args, 0, pkg.version]);
    }
  });

  it('prints help for every command, naming its options, without starting anything', async () => {
    const main = await finished(['--help']);
    expect(main.code).toBe(0);
    for (const c of COMMANDS) expect(main.out).toContain(`  ${c} `);
    const expectations: Record<string, RegExp> = { serve: /--port.*\n.*--host.*\n.*--model/, seed: /--force/, token: /--payload/, rls: /rls sql/ };
    for (const c of COMMANDS) {
      const { code, out } = await finished([c, '--help']);
      expect([c, code]).toEqual([c, 0]);
      expect(out).toMatch(new RegExp(`^Usage: tessera ${c}`));
      expect(out).toMatch(expectations[c]!);
    }
  });

  it('rejects an unknown option with exit code 2 and a pointer to the help', async () => {
    const { code, err } = await finished(['serve', '--prot', '4000']);
    expect(code).toBe(2);
    expect(err).toContain("tessera serve: Unknown option '--prot'");
    expect(err).toContain('tessera serve --help');
  });
});

describe('tessera serve', () => {
  const base = { NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), CUBEJS_API_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', TESSERA_QUERY_RATE_LIMIT: '1000000' };

  it('listens on --port and --host and serves the --model folder', async () => {
    const model = emptyDir();
    writeFileSync(path.join(model, 'only.js'), "cube('OnlyOrders', { sql_table: 'tessera_demo.orders', measures: { count: { type: 'count' } } });");
    const port = await freePort();
    const run = runTessera(['serve', '--port', String(port), '--host', '127.0.0.1', '--model', model], base, emptyDir());
    try {
      await run.waitFor(new RegExp(`listening on http://localhost:${port}`));
      const meta = await fetch(`http://127.0.0.1:${port}/cubejs-api/v1/meta`, { headers: { Authorization: jwt.sign({ sub: 'cli' }, TEST_SECRET) } });
      expect(((await meta.json()) as { cubes: { name: string }[] }).cubes.map((c) => c.name)).toEqual(['OnlyOrders']);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('exits 1 with one line naming the port when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { code, err } = await finished(['serve', '--port', String(port), '--host', '127.0.0.1', '--model', DEMO_SCHEMA_PATH], base, emptyDir());
      expect(code).toBe(1);
      expect(err.trim().split('\n')).toEqual([`tessera: port ${port} is already in use on 127.0.0.1; stop the other process or pass --port`]);
    } finally {
      blocker.close();
    }
  });

  it('in production without DATABASE_URL exits 1 with one line, and never starts the embedded database', async () => {
    const cwd = emptyDir();
    const { code, err } = await finished(['serve'], { NODE_ENV: 'production', CUBEJS_API_SECRET: TEST_SECRET, TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'correct-Horse-battery-9!', CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH }, cwd);
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toEqual(['tessera: NODE_ENV=production needs DATABASE_URL (or CUBEJS_DB_HOST); the embedded demo database never starts in production']);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('warns when dev mode binds an address that is not loopback', async () => {
    const run = runTessera(['serve', '--port', '0', '--host', '0.0.0.0', '--model', DEMO_SCHEMA_PATH], { NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'warn', CUBEJS_DEV_MODE: 'true' }, emptyDir());
    try {
      await run.waitFor(/listening on/);
      expect(run.stderr()).toContain('warning: dev mode answers requests without a token, and it is listening on 0.0.0.0');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});

describe('tessera token', () => {
  it('signs with the dev secret that serve wrote into the data dir, so its token opens that server', async () => {
    const cwd = emptyDir();
    const dataDir = path.join(cwd, '.tessera');
    mkdirSync(dataDir);
    // The file serve writes on first start of the embedded demo (see open-database.ts).
    writeFileSync(path.join(dataDir, 'dev-secret'), 'a-dev-secret-written-by-serve-0123456789\n');
    const { code, out } = await finished(['token', '-p', 'tenant_id=3'], { NODE_ENV: 'test' }, cwd);
    expect(code).toBe(0);
    const token = out.trim().split('\n').pop()!;
    expect((jwt.verify(token, 'a-dev-secret-written-by-serve-0123456789', { algorithms: ['HS256'] }) as { tenant_id: number }).tenant_id).toBe(3);
  });

  it('never uses a dev secret in production', async () => {
    const cwd = emptyDir();
    mkdirSync(path.join(cwd, '.tessera'));
    writeFileSync(path.join(cwd, '.tessera', 'dev-secret'), 'a-dev-secret-written-by-serve-0123456789\n');
    const { code, err } = await finished(['token'], { NODE_ENV: 'production' }, cwd);
    expect(code).toBe(2);
    expect(err).toContain('No secret');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}


describe('two servers on one embedded data directory', () => {
  it('the second refuses to start with one line, and the first keeps answering', { timeout: 240_000 }, async () => {
    const cwd = emptyDir();
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'warn', TESSERA_DATA_DIR: path.join(cwd, 'data') };
    const first = runTessera(['serve', '--port', '0', '--model', DEMO_SCHEMA_PATH], env, cwd);
    try {
      const [, port] = await first.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const second = await finished(['serve', '--port', '0', '--model', DEMO_SCHEMA_PATH], env, cwd);
      expect(second.code).toBe(1);
      expect(second.err.trim().split('\n')).toEqual([
        `tessera: the embedded database in ${path.join(cwd, 'data', 'pgdata')} is in use by another Tessera (pid ${first.child.pid}); stop it first or set TESSERA_DATA_DIR to another folder`,
      ]);
      // The first server's database is untouched: it is still ready and still answers queries.
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const token = (await finished(['token', '-p', 'u.id=42', '-p', 'tenant_id=2'], env, cwd)).out.trim().split('\n').pop()!;
      const res = await fetch(`http://127.0.0.1:${port}/cubejs-api/v1/load?query=${encodeURIComponent('{"measures":["Orders.count"]}')}`, { headers: { Authorization: token } });
      expect(res.status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });
});
