/**
 * `tessera serve` as a real process outside production: a model edit that compiles is served
 * without a restart; a broken edit is logged and the last good model keeps answering.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const ORDERS = (measure: string, type = 'count') =>
  `cubes:\n  - name: orders\n    sql_table: tessera_demo.orders\n    measures:\n      - name: ${measure}\n        type: ${type}\n`;

describe('hot reload in tessera serve', () => {
  it('serves an edited model without a restart and keeps the last good one through a broken edit', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-reload-'));
    await writeFile(path.join(dir, 'orders.yml'), ORDERS('count'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: testDatabaseUrl(), CUBEJS_API_SECRET: TEST_SECRET, CUBEJS_SCHEMA_PATH: dir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const seen = (pattern: RegExp, from: number) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const m = output.slice(from).match(pattern);
          if (m) resolve(m);
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.on('exit', (code) => reject(new Error(`tessera exited (${code}):\n${output}`)));
        check();
      });
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const port = (await seen(/listening on http:\/\/localhost:(\d+)/, 0))[1];
      const measures = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/cubejs-api/v1/meta`, { headers: { Authorization: signToken({}) } });
        const body = (await res.json()) as { cubes: { measures: { name: string }[] }[] };
        return body.cubes.flatMap((c) => c.measures.map((m) => m.name));
      };
      expect(await measures()).toEqual(['orders.count']);

      let mark = output.length;
      await writeFile(path.join(dir, 'orders.yml'), ORDERS('orders_count'));
      await seen(/model reloaded/, mark);
      expect(await measures()).toEqual(['orders.orders_count']);

      mark = output.length;
      await writeFile(path.join(dir, 'orders.yml'), ORDERS('broken', 'cuont'));
      await seen(/model not reloaded; the last good model keeps serving/, mark);
      expect(output.slice(mark)).toContain('orders.yml:5: orders.broken: measure type must be one of');
      expect(await measures()).toEqual(['orders.orders_count']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
