import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelError } from '../../src/errors/engine-error.js';
import { loadModel } from '../../src/schema/load-model.js';
import { recordingContext } from './recording-context.js';

const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'real-styles');

async function load(folder: string) {
  const errors: ModelError[] = [];
  const model = await loadModel(path.join(REAL, folder), { errors });
  return { model, errors: errors.map((e) => e.message) };
}

describe('model folders in the styles of public Cube projects', () => {
  it("loads the JS files Cube's generator writes, empty pre_aggregations block included", async () => {
    const { model, errors } = await load('generated-js/model');
    expect(errors).toEqual([]);
    expect([...model.cubes.keys()].sort()).toEqual(['orders', 'products', 'tenants', 'users']);
    expect(model.cubes.get('orders')!.preAggregations).toEqual([]);
    expect(model.cubes.get('orders')!.dataSource).toBe('default');
    expect(model.cubes.get('orders')!.joins.map((j) => `${j.to}:${j.relationship}`)).toEqual(['users:belongsTo', 'products:belongsTo']);
  });

  it('loads the documented YAML layout: hierarchies, folders, a view extending a view, formats and currencies', async () => {
    const { model, errors } = await load('docs-yaml/model');
    expect(errors).toEqual([]);
    const orders = model.cubes.get('orders')!;
    expect(orders.hierarchies).toEqual([{ name: 'order_status', title: 'Status and buyer city', public: true, levels: ['orders.status', 'users.city'] }]);
    expect(orders.measures.get('revenue')).toMatchObject({ format: 'currency', currency: 'USD' });
    expect(orders.measures.get('average_order_value')!.format).toBe('number_2');
    expect(orders.dimensions.get('receipt_url')!.format).toBe('link');
    expect(orders.dimensions.get('created_at')!.granularities!.get('fiscal_quarter')).toMatchObject({ interval: '3 months', offset: '1 month' });
    expect(orders.refreshKey).toMatchObject({ every: '1 hour' });
    expect(orders.preAggregations![0]).toMatchObject({
      name: 'revenue_by_status',
      measures: ['orders.count', 'orders.revenue'],
      dimensions: ['orders.status'],
      timeDimension: 'orders.created_at',
      partitionGranularity: 'month',
    });
    const view = model.cubes.get('orders_view')!;
    expect(view.viewMembers!.has('completed_count')).toBe(false);
    expect(view.folders!.map((f) => [f.name, f.members.length])).toEqual([['Revenue', 3], ['Everything', view.viewMembers!.size]]);
    const extended = model.cubes.get('orders_with_items')!;
    expect([...extended.viewMembers!.keys()]).toEqual([...view.viewMembers!.keys(), 'line_items_quantity']);
    expect(extended.viewMembers!.get('users_buyer')).toEqual({ cube: 'users', member: 'name', joinPath: ['orders', 'users'] });
  });

  it('loads YAML with Jinja (a .yml.jinja file, loops in SQL, macros) and refuses only by naming the Python helper', async () => {
    const { model, errors } = await load('jinja-dbt/model');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/dbt_orders\.yml:1: uses the Python function 'dbt_model' from .*globals\.py, which Tessera cannot run/);
    const totals = model.cubes.get('order_status_totals')!;
    expect([...totals.measures.keys()]).toEqual(['count', 'completed_amount', 'shipped_amount', 'cancelled_amount', 'processing_amount']);
    expect(totals.source.sql(recordingContext().ctx)).toContain("SUM(CASE WHEN status = 'cancelled' THEN amount END) AS cancelled_amount,");
    expect(totals.dimensions.get('user_id')!.primaryKey).toBe(true);
  });

  it('loads the older schema/*.js style with rollups by reference and hasOne joins', async () => {
    const { model, errors } = await load('legacy-schema/schema');
    expect(errors).toEqual([]);
    expect(model.cubes.get('Orders')!.preAggregations![0]).toMatchObject({
      type: 'rollup',
      measures: ['Orders.count', 'Orders.totalAmount'],
      dimensions: ['Orders.status'],
      timeDimension: 'Orders.createdAt',
      granularity: 'day',
    });
    expect(model.cubes.get('Users')!.joins[0]!.relationship).toBe('hasOne');
    expect(model.cubes.get('Orders')!.dimensions.get('id')!.public).toBe(false);
  });
});
