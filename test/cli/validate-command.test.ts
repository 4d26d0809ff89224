import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runValidateCommand } from '../../src/cli/validate-command.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runValidateCommand(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), defaultDir: async () => path.join(ROOT, 'schema') });
  return { code, out, err };
}

describe('tessera validate', () => {
  it('loads the configured model folder without a database and exits 0', async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toMatch(/schema: 6 cubes and 1 view load without errors$/);
  });

  it('prints every error with file, line and member, and exits 1', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-validate-'));
    try {
      await writeFile(
        path.join(dir, 'orders.yml'),
        'cubes:\n  - name: orders\n    sql_table: t\n    measures:\n      - name: a\n        type: cuont\n      - name: b\n        sql: "{nope}"\n        type: sum\n',
      );
      await writeFile(path.join(dir, 'users.js'), "cube('users', {\n  sql_table: 'u',\n  dimensions: { d: { sql: 'd', type: 'colour' } },\n});\n");
      await writeFile(path.join(dir, 'broken.yml'), 'cubes: [\n');
      const { code, out, err } = await run([dir]);
      expect(code).toBe(1);
      expect(out).toEqual([]);
      // Outside the working directory, files are named by their absolute path.
      const name = (f: string) => path.join(dir, f);
      expect(err).toHaveLength(5);
      expect(err[0]).toMatch(new RegExp(`^${name('broken.yml')}:\\d+: is not valid YAML`));
      expect(err.slice(1, 4)).toEqual([
        `${name('orders.yml')}:5: orders.a: measure type must be one of count, countDistinct, countDistinctApprox, sum, avg, min, max, number, string, time, boolean, got cuont`,
        `${name('orders.yml')}:7: orders.b: unknown reference 'nope': it is not a member of orders, a cube or a context variable`,
        `${name('users.js')}:3: users.d: dimension type must be one of string, number, time, boolean, got colour`,
      ]);
      expect(err[4]).toBe(`4 errors in ${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a folder that does not exist', async () => {
    const { code, err } = await run(['/nonexistent/tessera-model']);
    expect(code).toBe(1);
    expect(err[0]).toBe('model directory /nonexistent/tessera-model does not exist');
  });
});
