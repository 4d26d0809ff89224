/**
 * What `npm pack` publishes runs on its own: unpacked into a clean folder (with
 * the project's installed dependencies, since tests never reach a registry),
 * `tessera` prints its version and serves queries from the packaged demo model.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';
import { TEST_SECRET, userToken } from '../support/tokens.js';
import { spawnBin } from '../support/run-tessera.js';
import pkg from '../../package.json' with { type: 'json' };

describe('npm pack', () => {
  it('publishes a scoped name whose bin is tessera, and a file set that runs from a clean folder', { timeout: 120_000 }, async (ctx) => {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) ctx.skip('skipped: dist/ is not built (npm run build)');
    expect(pkg.name).toBe('@tessera-sl/tessera');
    expect(pkg.bin).toEqual({ tessera: './bin/tessera.js' });

    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-pack-'));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/tessera.js', 'src/cli/main.ts', 'dist/client/index.js', 'schema/Orders.js', 'package.json', 'README.md']));
    expect(files.filter((f) => /^(test|bench|\.tessera|\.env)|(^|\/)\.env$/.test(f))).toEqual([]);

    execFileSync('tar', ['-xzf', path.join(dir, packed!.filename), '-C', dir]);
    const root = path.join(dir, 'package');
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    const cwd = mkdtempSync(path.join(tmpdir(), 'tessera-pack-cwd-'));

    expect(execFileSync(process.execPath, [path.join(root, 'bin', 'tessera.js'), '--version'], { cwd, encoding: 'utf8' }).trim()).toBe(pkg.version);

    const run = spawnBin(path.join(root, 'bin', 'tessera.js'), ['serve', '--port', '0', '--host', '127.0.0.1', '--model', path.join(root, 'schema')], {
      NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), CUBEJS_API_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', TESSERA_QUERY_RATE_LIMIT: '1000000',
    }, cwd);
    try {
      const [, port] = await run.waitFor(/listening on http:\/\/localhost:(\d+)/);
      const res = await fetch(`http://127.0.0.1:${port}/cubejs-api/v1/load?query=${encodeURIComponent('{"measures":["Orders.count"]}')}`, { headers: { Authorization: userToken(42) } });
      expect(res.status).toBe(200);
      const client = new pg.Client({ connectionString: testDatabaseUrl() });
      await client.connect();
      const { rows } = await client.query('select count(*)::text as n from tessera_demo.orders where user_id = 42 and tenant_id = 2');
      await client.end();
      expect(((await res.json()) as { data: unknown[] }).data).toEqual([{ 'Orders.count': rows[0].n }]);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    expect(readdirSync(cwd)).toEqual([]);
  });
});
