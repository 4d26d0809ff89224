/**
 * Classes of construct found in public Cube model folders, each reproduced by a small fixture
 * written in the same style (test/fixtures/models/real-styles/<class>/).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelError } from '../../src/errors/engine-error.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { parseWireQuery } from '../../src/query/wire-query.js';
import { validateQuery } from '../../src/query/validate-query.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { loadModel, loadModelFromSources } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';

const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'real-styles');
const opts = { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' };

async function load(folder: string) {
  const errors: ModelError[] = [];
  const model = await loadModel(path.join(REAL, folder), { errors });
  return { model, errors: errors.map((e) => e.message) };
}

function sqlOf(model: Model, query: unknown): string {
  const q = validateQuery(parseWireQuery(query), model, opts);
  return compileQuery(model, q, buildPlan(model, q), {}).sql;
}

describe('constructs of public Cube model folders', () => {
  it('reads pre-aggregation types in snake_case as the YAML docs write them (rollup_lambda, original_sql, auto_rollup)', async () => {
    const { model, errors } = await load('snake-case-preagg-types/model');
    expect(errors).toEqual([]);
    expect(model.cubes.get('sessions')!.preAggregations!.map((p) => [p.name, p.type])).toEqual([
      ['by_source', 'rollupLambda'],
      ['by_source_batch', 'rollup'],
      ['base', 'originalSql'],
      ['auto', 'autoRollup'],
    ]);
  });

  it("resolves require('./x') and import from './x' against the model root from a file in a sub-folder, as Cube does", async () => {
    const { model, errors } = await load('root-relative-require/model');
    expect(errors).toEqual([]);
    expect([...model.cubes.get('Deals')!.measures.keys()]).toEqual(['revenue']);
    expect([...model.cubes.get('Deals')!.dimensions.keys()]).toEqual(['id', 'region']);
    expect(sqlOf(model, { dimensions: ['Accounts.region'] })).toContain('"accounts".region AS "accounts__region"');
  });

  it('treats sql inside members built by code (a spread over reduce) as templates and reads computed member access', async () => {
    const { model, errors } = await load('computed-members/model');
    expect(errors).toEqual([]);
    const positions = model.cubes.get('Positions')!;
    expect([...positions.measures.keys()]).toEqual(['openValue', 'currentValue', 'gain_last_week', 'gain_last_month']);
    const sql = sqlOf(model, { measures: ['Positions.gain_last_week'] });
    // A sum over `number` measures is the sum of their row expressions, and it joins the cube it reads.
    expect(sql).toContain('sum("positions".quantity * "prices".price - "positions".quantity * "positions".open_price)');
    expect(sql).toMatch(/LEFT JOIN public\.prices AS "prices"/);
  });

  it('still refuses at load a sum over a measure that aggregates, naming the member', async () => {
    const { errors } = await load('computed-members/model-refused');
    expect(errors).toEqual([expect.stringMatching(/totals\.js:12: Totals\.nested: references measure Totals\.ratio/)]);
  });
});

describe('granularity proxies', () => {
  it('loads dimensions whose sql reads a granularity of a time dimension, custom or predefined, and refuses an unknown one', async () => {
    const { model, errors } = await load('granularity-proxy/model');
    expect(errors).toEqual([]);
    const sql = sqlOf(model, { dimensions: ['tickets.opened_sunday_week'] });
    expect(sql).toContain(`(date_trunc('week', ("tickets".opened_at)::timestamptz AT TIME ZONE $1 - interval '-1 day') + interval '-1 day')`);
    const unknown = "cubes:\n  - name: t\n    sql_table: t\n    dimensions:\n      - name: at\n        sql: at\n        type: time\n      - name: at_fy\n        sql: '{at.fiscal_year}'\n        type: time\n";
    const refused: ModelError[] = [];
    loadModelFromSources([{ fileName: 't.yml', content: unknown }], { errors: refused });
    expect(refused.map((e) => e.message)).toEqual([expect.stringMatching(/t\.at_fy: t\.at\.fiscal_year cannot be resolved/)]);
  });
});

describe("another cube's source", () => {
  it('renders ${Other.sql()} of a SELECT cube as a parenthesised subquery, and of SELECT * FROM t as the table, as Cube does', async () => {
    const { model, errors } = await load('cube-sql-reference/model');
    expect(errors).toEqual([]);
    const sql = sqlOf(model, { measures: ['LatestChanges.items'] });
    expect(sql).toMatch(/SELECT c\.\* FROM \(\s+SELECT item_id, state, MIN\(changed_at\) AS changed_at\s+FROM public\.item_events\s+GROUP BY 1, 2\s+\) AS c\s/);
    expect(sqlOf(model, { dimensions: ['ItemsCopy.label'] })).toContain('SELECT id FROM public.items AS i');
  });
});

describe('formulas over rolling windows', () => {
  it('refuses with ERR_PLAN_UNSUPPORTED a number measure over rolling window measures rather than answering without the windows', async () => {
    const { model, errors } = await load('rolling-formula/model');
    expect(errors).toEqual([]);
    const timeDimensions = [{ dimension: 'Visits.visitedAt', granularity: 'day', dateRange: ['2024-02-01', '2024-02-03'] }];
    expect(() => sqlOf(model, { measures: ['Visits.stickiness'], timeDimensions })).toThrow(
      expect.objectContaining({ code: 'ERR_PLAN_UNSUPPORTED', message: expect.stringMatching(/Visits\.stickiness reads the rolling window measure Visits\.last7Days/) }),
    );
    expect(sqlOf(model, { measures: ['Visits.last7Days', 'Visits.last30Days'], timeDimensions })).toContain("- $3::interval");
  });
});
