/**
 * Exact SQL and parameters for a hand-built model written with bare column names, a cross-cube
 * reference and per-cube securityFilters set directly on the query (as the policy stage sets them).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build-plan.js';
import { compileQuery } from '../../src/render/compile-query.js';
import { printPlan } from '../../src/plan/query-plan.js';
import { parseWireQuery } from '../../src/query/wire-query.js';
import { validateQuery } from '../../src/query/validate-query.js';
import type { FilterNode, ValidatedQuery } from '../../src/query/validated-query.js';
import type { Model } from '../../src/schema/model.js';
import { cube, dimension, measure, segment } from './fixture-model.js';

const bare = (column: string) => () => column;

function bareModel(): Model {
  const orders = cube('Orders', {
    source: { kind: 'table', sql: bare('shop.orders') },
    measures: [measure('Orders', 'count', { type: 'count' }), measure('Orders', 'total', { type: 'sum', sql: bare('amount') })],
    dimensions: [
      dimension('Orders', 'id', { type: 'number', sql: bare('id'), primaryKey: true }),
      dimension('Orders', 'status', { type: 'string', sql: bare('status') }),
      dimension('Orders', 'city', { type: 'string', sql: (ctx) => ctx.memberRef('Users', 'city') }),
    ],
    segments: [segment('Orders', 'paid', bare('is_paid'))],
    joins: [
      { from: 'Orders', to: 'Users', relationship: 'belongsTo', sql: (ctx) => `${ctx.cubeRef('Orders')}.user_id = ${ctx.cubeRef('Users')}.id` },
      { from: 'Orders', to: 'Items', relationship: 'hasMany', sql: (ctx) => `${ctx.cubeRef('Orders')}.id = ${ctx.cubeRef('Items')}.order_id` },
    ],
  });
  const users = cube('Users', {
    source: { kind: 'table', sql: bare('shop.users') },
    dimensions: [dimension('Users', 'id', { type: 'number', sql: bare('id'), primaryKey: true }), dimension('Users', 'city', { type: 'string', sql: bare('city') })],
  });
  const items = cube('Items', {
    source: { kind: 'table', sql: bare('shop.items') },
    measures: [measure('Items', 'quantity', { type: 'sum', sql: bare('qty') })],
    dimensions: [dimension('Items', 'id', { type: 'number', sql: bare('id'), primaryKey: true })],
  });
  return { cubes: new Map([['Orders', orders], ['Users', users], ['Items', items]]) };
}

const model = bareModel();
const opts = { defaultLimit: 100, maxLimit: 1000, defaultTimezone: 'UTC' };

function compile(query: unknown, securityFilters?: Record<string, FilterNode[]>) {
  const validated = validateQuery(parseWireQuery(query), model, opts);
  const q: ValidatedQuery = securityFilters ? { ...validated, securityFilters } : validated;
  const tree = buildPlan(model, q);
  return compileQuery(model, q, tree, {});
}

describe('bare column names', () => {
  it('qualifies bare member, segment and primary key SQL with the cube alias', () => {
    const c = compile({ measures: ['Orders.count', 'Orders.total'], dimensions: ['Orders.status'], segments: ['Orders.paid'] });
    expect(c.sql).toBe(
      [
        'SELECT',
        '  "orders".status AS "orders__status",',
        '  count("orders".id) AS "orders__count",',
        '  sum("orders".amount) AS "orders__total"',
        'FROM shop.orders AS "orders"',
        'WHERE ("orders".is_paid)',
        'GROUP BY 1',
        'ORDER BY 2 DESC',
        'LIMIT 100',
      ].join('\n'),
    );
    expect(c.params).toEqual([]);
  });

  it('joins the cube that a member references and qualifies its bare column there', () => {
    const c = compile({ measures: ['Orders.count'], dimensions: ['Orders.city'] });
    expect(c.sql).toContain('"users".city AS "orders__city"');
    expect(c.sql).toContain('FROM shop.orders AS "orders"\nLEFT JOIN shop.users AS "users" ON "orders".user_id = "users".id');
  });
});

describe('securityFilters', () => {
  const onlyParis: Record<string, FilterNode[]> = { Users: [{ kind: 'leaf', member: 'Users.city', operator: 'equals', values: ['Paris'] }] };

  it('filters a cube inside its own FROM item, with the value bound', () => {
    const c = compile({ measures: ['Orders.count'], dimensions: ['Orders.city'] }, onlyParis);
    expect(c.sql).toContain('LEFT JOIN (SELECT * FROM shop.users AS "users" WHERE ("users".city = $1)) AS "users" ON "orders".user_id = "users".id');
    expect(c.params).toEqual(['Paris']);
  });

  it('filters every copy of a cube in a fan-out plan: the keys subquery and the cube joined back', () => {
    const c = compile({ measures: ['Orders.total', 'Items.quantity'], dimensions: ['Users.city'] }, { Orders: [{ kind: 'leaf', member: 'Orders.status', operator: 'equals', values: ['paid'] }] });
    const filtered = /\(SELECT \* FROM shop\.orders AS "orders" WHERE \("orders"\.status = \$\d\)\) AS "orders"/g;
    expect(c.sql.match(filtered)).toHaveLength(3);
    expect(c.sql).not.toMatch(/FROM shop\.orders AS "orders"(?! WHERE)/);
    expect(c.params).toEqual(['paid', 'paid', 'paid']);
    expect(printPlan(c.plan)).toContain('distinctKeys Orders by Users.city');
  });
});
