/** Exact SQL and params for queries at custom granularities of the YAML fixture model. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build-plan.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { parseWireQuery } from '../../src/query/wire-query.js';
import { validateQuery } from '../../src/query/validate-query.js';
import { POSTGRES } from '../../src/render/dialects/postgres.js';
import { loadModel, loadModelFromSources } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';

const MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'custom-granularity-query', 'model');
const opts = { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' };
let model: Model;
const SOURCE_WITH_OFFSET_ORIGIN = `cubes:
  - name: o
    sql_table: t
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: t
        sql: t
        type: time
        granularities:
          - name: week2
            interval: 2 weeks
            origin: "2024-01-07T00:00:00Z"
    measures:
      - name: count
        type: count
`;

beforeAll(async () => {
  model = await loadModel(MODEL_DIR);
});

function compile(query: unknown) {
  const q = validateQuery(parseWireQuery(query), model, opts);
  return compileQuery(model, q, buildPlan(model, q), {});
}

describe('custom granularity SQL', () => {
  it('shifts a 1-year interval by its offset as literals, with the timezone and dateRange bound', () => {
    const c = compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fiscal_year', dateRange: ['2024-01-01', '2024-12-31'] }] });
    expect(c.sql).toContain(
      `(date_trunc('year', ("orders".created_at)::timestamptz AT TIME ZONE $1 - interval '3 months') + interval '3 months') AS "orders__created_at_fiscal_year"`,
    );
    expect(c.params).toEqual(['UTC', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z']);
  });

  it('bins from the origin, which is a bound parameter read in the query timezone', () => {
    const c = compile({ measures: ['orders.count'], dimensions: ['orders.created_at.fortnight'], timezone: 'Europe/Paris' });
    const local = `("orders".created_at)::timestamptz AT TIME ZONE $2`;
    expect(c.sql).toContain(
      `($1::timestamp + interval '2 weeks' * floor(extract(epoch from (${local} - $1::timestamp)) / extract(epoch from interval '2 weeks'))) AS "orders__created_at_fortnight"`,
    );
    expect(c.params).toEqual(['2024-01-03T00:00:00.000', 'Europe/Paris']);
  });

  it('groups and orders by the custom bucket like a built-in granularity', () => {
    const c = compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'half_year' }] });
    expect(c.sql).toMatch(/GROUP BY 1\nORDER BY 1 ASC/);
    expect(c.sql).toContain(`date_trunc('year', (now())::timestamptz AT TIME ZONE $1)`);
  });

  it('converts an origin written with an offset into the query timezone, as Cube reads it', () => {
    const zoned = loadModelFromSources([{ fileName: 'o.yml', content: SOURCE_WITH_OFFSET_ORIGIN }]);
    const q = validateQuery(parseWireQuery({ measures: ['o.count'], dimensions: ['o.t.week2'], timezone: 'America/New_York' }), zoned, opts);
    expect(compileQuery(zoned, q, buildPlan(zoned, q), {}).params).toContain('2024-01-06T19:00:00.000');
  });

  it('renders only interval text of the model form as a literal', () => {
    expect(POSTGRES.intervalLiteral(' -7  days ')).toBe(`interval '-7 days'`);
    expect(() => POSTGRES.intervalLiteral(`1 day'; DROP TABLE x; --`)).toThrow(/granularity interval/);
  });

  it('names an unknown granularity and the dimension in the validation error', () => {
    expect(() => compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'fortnite' }] })).toThrow(
      'Granularity "fortnite" does not exist in dimension orders.created_at',
    );
    expect(() => compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: "day'" }] })).toThrow();
  });
});
