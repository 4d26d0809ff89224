/**
 * A small hand-built Model for compiler unit tests, independent of the file loader.
 */
import type { Cube, Dimension, Join, Measure, Model, Segment, SqlRenderContext, SqlTemplate } from '../../src/schema/model.js';

type Partial<T> = { -readonly [K in keyof T]?: T[K] };

const title = (cube: string, name: string) => `${cube} ${name}`;

export function measure(cube: string, name: string, m: Partial<Measure> & Pick<Measure, 'type'>): Measure {
  return { kind: 'measure', name, cube, title: title(cube, name), shortTitle: name, public: true, filters: [], drillMembers: [], ...m } as Measure;
}

export function dimension(cube: string, name: string, d: Partial<Dimension> & Pick<Dimension, 'type' | 'sql'>): Dimension {
  return { kind: 'dimension', name, cube, title: title(cube, name), shortTitle: name, public: !d.primaryKey, primaryKey: false, subQuery: false, ...d } as Dimension;
}

export function segment(cube: string, name: string, sql: SqlTemplate): Segment {
  return { kind: 'segment', name, cube, title: title(cube, name), shortTitle: name, public: true, sql };
}

export function cube(name: string, c: { source: Cube['source']; measures?: Measure[]; dimensions?: Dimension[]; segments?: Segment[]; joins?: Join[] }): Cube {
  return {
    name,
    fileName: `${name}.js`,
    kind: 'cube',
    title: name,
    public: true,
    source: c.source,
    measures: new Map((c.measures ?? []).map((m) => [m.name, m])),
    dimensions: new Map((c.dimensions ?? []).map((d) => [d.name, d])),
    segments: new Map((c.segments ?? []).map((s) => [s.name, s])),
    joins: c.joins ?? [],
  };
}

/** `${CUBE}.column` for the given cube. */
export const colOf = (cubeName: string, column: string): SqlTemplate => (ctx: SqlRenderContext) => `${ctx.cubeRef(cubeName)}.${column}`;

/** `.filter(column)` semantics of a context variable, as the model loader renders them. */
export const contextFilter = (key: string, column: string): SqlTemplate => (ctx) => {
  const v = ctx.securityContext[key];
  if (v === undefined) return '1 = 1';
  if (Array.isArray(v)) return v.length === 0 ? '1 = 0' : `${column} IN (${v.map((x) => ctx.param(x)).join(', ')})`;
  return `${column} = ${ctx.param(v)}`;
};

export function fixtureModel(): Model {
  const orders = cube('Orders', {
    source: { kind: 'sql', sql: (ctx) => `SELECT * FROM tessera_demo.orders WHERE ${contextFilter('id', 'user_id')(ctx)}` },
    measures: [
      measure('Orders', 'count', { type: 'count' }),
      measure('Orders', 'totalAmount', { type: 'sum', sql: colOf('Orders', 'amount') }),
      measure('Orders', 'completedCount', { type: 'count', filters: [(ctx) => `${ctx.cubeRef('Orders')}.status = 'completed'`] }),
      measure('Orders', 'ratio', { type: 'number', sql: (ctx) => `${ctx.memberRef('Orders', 'completedCount')}::numeric / NULLIF(${ctx.memberRef('Orders', 'count')}, 0)` }),
    ],
    dimensions: [
      dimension('Orders', 'id', { type: 'number', sql: colOf('Orders', 'id'), primaryKey: true }),
      dimension('Orders', 'status', { type: 'string', sql: colOf('Orders', 'status') }),
      dimension('Orders', 'amount', { type: 'number', sql: colOf('Orders', 'amount') }),
      dimension('Orders', 'createdAt', { type: 'time', sql: colOf('Orders', 'created_at') }),
    ],
    segments: [segment('Orders', 'completed', (ctx) => `${ctx.cubeRef('Orders')}.status = 'completed'`)],
    joins: [
      { from: 'Orders', to: 'Users', relationship: 'belongsTo', sql: (ctx) => `${ctx.memberRef('Orders', 'userId')} = ${ctx.memberRef('Users', 'id')}` },
      { from: 'Orders', to: 'Items', relationship: 'hasMany', sql: (ctx) => `${ctx.cubeRef('Orders')}.id = ${ctx.cubeRef('Items')}.order_id` },
    ],
  });
  (orders.dimensions as Map<string, Dimension>).set('userId', dimension('Orders', 'userId', { type: 'number', sql: colOf('Orders', 'user_id') }));
  const users = cube('Users', {
    source: { kind: 'sql', sql: (ctx) => `SELECT * FROM tessera_demo.users WHERE ${contextFilter('tenant_id', 'tenant_id')(ctx)}` },
    measures: [measure('Users', 'count', { type: 'count' })],
    dimensions: [
      dimension('Users', 'id', { type: 'number', sql: colOf('Users', 'id'), primaryKey: true }),
      dimension('Users', 'city', { type: 'string', sql: colOf('Users', 'city') }),
    ],
  });
  const items = cube('Items', {
    source: { kind: 'table', sql: () => 'tessera_demo.order_items' },
    measures: [measure('Items', 'quantity', { type: 'sum', sql: colOf('Items', 'quantity') })],
    dimensions: [dimension('Items', 'id', { type: 'number', sql: colOf('Items', 'id'), primaryKey: true })],
  });
  return { cubes: new Map([['Orders', orders], ['Users', users], ['Items', items]]) };
}
