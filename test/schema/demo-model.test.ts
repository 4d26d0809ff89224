import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';
import { recordingContext } from './recording-context.js';

const SCHEMA_DIR = new URL('../../schema/', import.meta.url).pathname;
const model: Model = await loadModel(SCHEMA_DIR);
const cube = (name: string) => model.cubes.get(name)!;

describe('the demo model', () => {
  it('loads the six demo cubes and the demo view', () => {
    expect([...model.cubes.keys()].sort()).toEqual(['OrderItems', 'Orders', 'OrdersOverview', 'Products', 'Tenants', 'UserProfiles', 'Users']);
    expect(cube('OrdersOverview').kind).toBe('view');
  });

  it('keeps the seed example verbatim in Orders.js', async () => {
    const text = await readFile(`${SCHEMA_DIR}Orders.js`, 'utf8');
    expect(text).toContain("sql: `SELECT * FROM tessera_demo.orders WHERE ${USER_CONTEXT.id.filter('user_id')}");
  });

  it('filters Orders by the user id and tenant as bound parameters', () => {
    const { ctx, params } = recordingContext({ u: { id: 42 }, id: 42, tenant_id: 3 });
    expect(cube('Orders').source.sql(ctx)).toBe('SELECT * FROM tessera_demo.orders WHERE user_id = $1 AND tenant_id = $2');
    expect(params).toEqual([42, 3]);
  });

  it('renders every cube filter as 1 = 1 for an empty context, as the seed documents', () => {
    const { ctx, params } = recordingContext({});
    expect(cube('Orders').source.sql(ctx)).toBe('SELECT * FROM tessera_demo.orders WHERE 1 = 1 AND 1 = 1');
    expect(cube('Tenants').source.sql(ctx)).toBe('SELECT * FROM tessera_demo.tenants WHERE 1 = 1');
    expect(params).toEqual([]);
  });

  it('scopes order items and profiles through their owners', () => {
    const { ctx, params } = recordingContext({ id: 42, tenant_id: 3 });
    expect(cube('OrderItems').source.sql(ctx).replace(/\s+/g, ' ')).toBe(
      'SELECT oi.* FROM tessera_demo.order_items oi JOIN tessera_demo.orders o ON o.id = oi.order_id WHERE o.user_id = $1 AND o.tenant_id = $2 AND 1 = 1',
    );
    expect(cube('UserProfiles').source.sql(ctx)).toBe(
      'SELECT p.* FROM tessera_demo.user_profiles p JOIN tessera_demo.users u ON u.id = p.user_id WHERE u.tenant_id = $3 AND p.user_id = $4',
    );
    expect(params).toEqual([42, 3, 3, 42]);
  });

  it('reads Products from its table', () => {
    expect(cube('Products').source).toMatchObject({ kind: 'table' });
    expect(cube('Products').source.sql(recordingContext().ctx)).toBe('tessera_demo.products');
  });

  it('declares belongsTo, hasMany and hasOne joins', () => {
    const joins = [...model.cubes.values()].flatMap((c) => c.joins.map((j) => `${j.from}->${j.to}:${j.relationship}`));
    expect(joins.sort()).toEqual([
      'Orders->OrderItems:hasMany',
      'Orders->Products:belongsTo',
      'Orders->Users:belongsTo',
      'Users->Tenants:belongsTo',
      'Users->UserProfiles:hasOne',
    ]);
  });

  it('has the Orders measures with their types, formats and references', () => {
    const orders = cube('Orders');
    const { ctx } = recordingContext();
    expect([...orders.measures.values()].map((m) => [m.name, m.type, m.format])).toEqual([
      ['count', 'count', undefined],
      ['totalAmount', 'sum', 'currency'],
      ['avgAmount', 'avg', 'currency'],
      ['minAmount', 'min', 'currency'],
      ['maxAmount', 'max', 'currency'],
      ['uniqueUsers', 'countDistinct', undefined],
      ['completedCount', 'count', undefined],
      ['completedRatio', 'number', 'percent'],
      ['totalQuantity', 'sum', undefined],
      ['rollingAmount7d', 'sum', undefined],
      ['runningAmount', 'sum', undefined],
      ['monthToDateCount', 'count', undefined],
    ]);
    expect(orders.measures.get('rollingAmount7d')!.rollingWindow).toMatchObject({ trailing: '7 day' });
    expect(orders.measures.get('completedRatio')!.sql!(ctx)).toBe('100.0 * {Orders.completedCount} / NULLIF({Orders.count}, 0)');
    expect(orders.measures.get('completedCount')!.filters.map((f) => f(ctx))).toEqual([`"Orders".status = 'completed'`]);
    expect(orders.measures.get('totalAmount')!.drillMembers).toEqual(['Orders.id', 'Orders.status', 'Orders.createdAt', 'Users.name']);
    expect(orders.measures.get('totalAmount')!.title).toBe('Orders Total Amount');
  });

  it('has the Orders dimensions and segments, with the primary key hidden', () => {
    const orders = cube('Orders');
    expect([...orders.dimensions.values()].map((d) => [d.name, d.type])).toEqual([
      ['id', 'number'],
      ['status', 'string'],
      ['amount', 'number'],
      ['quantity', 'number'],
      ['createdAt', 'time'],
      ['shippedAt', 'time'],
      ['notes', 'string'],
      ['isShipped', 'boolean'],
      ['sizeBucket', 'string'],
      ['userId', 'number'],
      ['productId', 'number'],
    ]);
    expect(orders.dimensions.get('id')).toMatchObject({ primaryKey: true, public: false });
    expect([...orders.segments.keys()]).toEqual(['completed', 'highValue']);
  });
});
