/**
 * `tessera explain` prints the resolved query, the plan, the SQL and the parameters of a query
 * without a database, running the same pipeline as /load (views, joins, access policies).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExplainCommand } from '../../src/cli/explain-command.js';
import { DEMO_SCHEMA_PATH, REPO_ROOT } from '../support/test-app.js';

const STYLES_MODEL = path.join(REPO_ROOT, 'test', 'cube-styles', 'model');
const ENV = { NODE_ENV: 'test', CUBEJS_API_SECRET: 'explain-test-secret-0123456789abcdef', CUBEJS_SCHEMA_PATH: DEMO_SCHEMA_PATH };

async function explain(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplainCommand(args, ENV, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('tessera explain', () => {
  it('prints a fan-out plan with distinct keys and the merged SQL for a bare-column model', async () => {
    const r = await explain([JSON.stringify({ measures: ['orders.total_amount', 'line_items.quantity'], dimensions: ['customers.city'] }), '--model', STYLES_MODEL]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('== resolved query');
    expect(r.out).toContain('merge join on customers.city');
    expect(r.out).toContain('distinctKeys orders by customers.city');
    expect(r.out).toContain('"customers".city AS "customers__city"');
    expect(r.out).toContain('== params\n[]');
  });

  it('binds the context values as parameters and never writes them into the SQL', async () => {
    const r = await explain([JSON.stringify({ measures: ['Orders.count'] }), '--context', JSON.stringify({ u: { id: 4242 }, tenant_id: 3 })]);
    expect(r.code, r.err).toBe(0);
    const sql = r.out.slice(r.out.indexOf('== sql'), r.out.indexOf('== params'));
    expect(sql).not.toContain('4242');
    expect(sql).toContain('$1');
    expect(r.out).toContain('== params\n[4242,3]');
  });

  it('shows the cube a cross-cube reference joins and the ReadSet', async () => {
    const r = await explain([JSON.stringify({ measures: ['orders.count'], dimensions: ['orders.customer_city'] }), '--model', STYLES_MODEL]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('belongsTo orders -> customers');
    expect(r.out).toMatch(/"read": \{\s+"cubes": \[\s+"orders",\s+"customers"/);
  });

  it('answers a bad query with one line naming the problem and exit code 1', async () => {
    const r = await explain([JSON.stringify({ measures: ['Orders.nope'] })]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Orders.nope');
    expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('rejects a query that is not JSON and a missing query with usage', async () => {
    expect((await explain(['{nope'])).err).toContain('The query is not valid JSON');
    const none = await explain([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: tessera explain');
  });
});
