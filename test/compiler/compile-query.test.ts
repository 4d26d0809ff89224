import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build-plan.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { parseWireQuery } from '../../src/query/wire-query.js';
import { validateQuery } from '../../src/query/validate-query.js';
import type { SecurityContext } from '../../src/schema/model.js';
import { fixtureModel } from './fixture-model.js';

const model = fixtureModel();
const opts = { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' };

function compile(query: unknown, context: SecurityContext = {}) {
  const q = validateQuery(parseWireQuery(query), model, opts);
  const plan = buildPlan(model, q);
  return compileQuery(model, q, plan, context);
}

describe('compileQuery', () => {
  it('binds the security context of the seed example as $1', () => {
    const c = compile({ measures: ['Orders.count'] }, { id: 42 });
    expect(c.sql).toBe(
      'SELECT\n  count("orders".id) AS "orders__count"\nFROM (SELECT * FROM tessera_demo.orders WHERE user_id = $1) AS "orders"\nLIMIT 10000',
    );
    expect(c.params).toEqual([42]);
  });

  it('renders an absent context value as 1 = 1 and an empty array as 1 = 0', () => {
    expect(compile({ measures: ['Orders.count'] }).sql).toContain('WHERE 1 = 1)');
    expect(compile({ measures: ['Orders.count'] }, { id: [] }).sql).toContain('WHERE 1 = 0)');
    const arr = compile({ measures: ['Orders.count'] }, { id: [1, 2] });
    expect(arr.sql).toContain('user_id IN ($1, $2)');
    expect(arr.params).toEqual([1, 2]);
  });

  it('groups by dimensions and orders by the first measure descending by default', () => {
    const c = compile({ measures: ['Orders.count'], dimensions: ['Orders.status'] }, { id: 7 });
    expect(c.sql).toBe(
      [
        'SELECT',
        '  "orders".status AS "orders__status",',
        '  count("orders".id) AS "orders__count"',
        'FROM (SELECT * FROM tessera_demo.orders WHERE user_id = $1) AS "orders"',
        'GROUP BY 1',
        'ORDER BY 2 DESC',
        'LIMIT 10000',
      ].join('\n'),
    );
    expect(c.params).toEqual([7]);
  });

  it('truncates time dimensions in the query timezone with one bound timezone parameter', () => {
    const c = compile({
      measures: ['Orders.totalAmount'],
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2024-01-01', '2024-03-31'] }],
      timezone: 'America/New_York',
    });
    expect(c.sql).toBe(
      [
        'SELECT',
        `  date_trunc('month', ("orders".created_at)::timestamptz AT TIME ZONE $1) AS "orders__created_at_month",`,
        '  sum("orders".amount) AS "orders__total_amount"',
        'FROM (SELECT * FROM tessera_demo.orders WHERE 1 = 1) AS "orders"',
        'WHERE (("orders".created_at >= $2::timestamptz AND "orders".created_at <= $3::timestamptz))',
        'GROUP BY 1',
        'ORDER BY 1 ASC',
        'LIMIT 10000',
      ].join('\n'),
    );
    expect(c.params).toEqual(['America/New_York', '2024-01-01T05:00:00.000Z', '2024-04-01T03:59:59.999Z']);
  });

  it('escapes LIKE wildcards and binds the value', () => {
    const c = compile({ dimensions: ['Orders.status'], filters: [{ member: 'Orders.status', operator: 'contains', values: ['50%_\\'] }] });
    expect(c.sql).toContain(`WHERE ("orders".status ILIKE '%' || $1 || '%')`);
    expect(c.params).toEqual(['50\\%\\_\\\\']);
  });

  it('adds OR IS NULL to notEquals and renders measure filters as HAVING', () => {
    const c = compile({
      measures: ['Orders.count'],
      dimensions: ['Orders.status'],
      filters: [
        { member: 'Orders.status', operator: 'notEquals', values: ['cancelled'] },
        { member: 'Orders.count', operator: 'gt', values: [5] },
      ],
    });
    expect(c.sql).toContain(`WHERE (("orders".status <> $1 OR "orders".status IS NULL))`);
    expect(c.sql).toContain('HAVING (count("orders".id) > $2::numeric)');
    expect(c.params).toEqual(['cancelled', '5']);
  });

  it('renders measure filters and number measures referencing measures', () => {
    const c = compile({ measures: ['Orders.ratio'] });
    expect(c.sql).toContain(
      `count(CASE WHEN ("orders".status = 'completed') THEN "orders".id END)::numeric / NULLIF(count("orders".id), 0) AS "orders__ratio"`,
    );
  });

  it('joins belongsTo cubes with a LEFT JOIN and keeps both cubes\' context filters', () => {
    const c = compile({ measures: ['Orders.count'], dimensions: ['Users.city'] }, { id: 42, tenant_id: 3 });
    expect(c.sql).toContain('FROM (SELECT * FROM tessera_demo.orders WHERE user_id = $1) AS "orders"');
    expect(c.sql).toContain('LEFT JOIN (SELECT * FROM tessera_demo.users WHERE tenant_id = $2) AS "users" ON "orders".user_id = "users".id');
    expect(c.params).toEqual([42, 3]);
  });

  it('aggregates a multiplied cube\'s sum over distinct primary keys', () => {
    const c = compile({ measures: ['Orders.totalAmount', 'Items.quantity'], dimensions: ['Orders.status'] });
    expect(c.sql).toContain('SELECT DISTINCT "orders".status AS "orders__status", "orders".id AS "__pk"');
    expect(c.sql).toContain('LEFT JOIN (SELECT * FROM tessera_demo.orders WHERE 1 = 1) AS "orders" ON "keys"."__pk" = "orders".id');
    expect(c.sql).toContain(`ON COALESCE("q_0"."orders__status", '') = COALESCE("q_1"."orders__status", '') AND ("q_0"."orders__status" IS NULL) = ("q_1"."orders__status" IS NULL)`);
  });

  it('counts a multiplied cube with count(DISTINCT pk) without a subquery', () => {
    const c = compile({ measures: ['Orders.count', 'Items.quantity'] });
    expect(c.sql).toContain('count(DISTINCT "orders".id) AS "orders__count"');
    expect(c.sql).not.toContain('"keys"');
  });

  it('never puts a filter value or context value into the SQL text', () => {
    const evil = `x'; DROP TABLE orders; --`;
    const c = compile(
      { measures: ['Orders.count'], dimensions: ['Orders.status'], filters: [{ member: 'Orders.status', operator: 'equals', values: [evil] }] },
      { id: evil },
    );
    expect(c.sql).not.toContain('DROP');
    expect(c.params).toEqual([evil, evil]);
  });

  it('uses the limit and offset as integer literals', () => {
    expect(compile({ measures: ['Orders.count'], limit: 5, offset: 10 }).sql).toMatch(/LIMIT 5 OFFSET 10$/);
  });
});
