/**
 * Class: rows outside the caller's tenant through model structure. Every shape a Cube user writes
 * (SQL filter, access_policy, view prefix/alias, view policy, sub_query, join chain, extends) and
 * every query shape (compare, blending, total, ungrouped, renewQuery, cache) must give exactly the
 * rows hand-written SQL gives for the caller's tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, only, openHarness, tenantToken, truth, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => { h = await openHarness(); });
afterAll(async () => { await h?.close(); });

const ordersOf = (tenant: number) => truth(h, 'select count(*) from orders where tenant_id = $1', [tenant]);

describe('direct reads', () => {
  it('gives the SQL-filtered cube only the caller tenant rows', async () => {
    const res = await load(h, tenantToken(3), { measures: ['s_orders.count'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 's_orders.count')).toBe(await ordersOf(3));
  });

  it('gives the access-policy cube only the caller tenant rows', async () => {
    const res = await load(h, tenantToken(4), { measures: ['p_orders.count', 'p_orders.total_amount'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 'p_orders.count')).toBe(await ordersOf(4));
    expect(Number(only(res.body, 'p_orders.total_amount'))).toBeCloseTo(
      Number(await truth(h, 'select sum(amount) from orders where tenant_id = 4')), 2);
  });

  it('keeps the inherited SQL filter on a cube that extends the filtered cube', async () => {
    const res = await load(h, tenantToken(2), { measures: ['ext_orders.count', 'ext_orders.max_amount'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 'ext_orders.count')).toBe(await ordersOf(2));
    expect(Number(only(res.body, 'ext_orders.max_amount'))).toBe(Number(await truth(h, 'select max(amount) from orders where tenant_id = 2')));
  });

  it('groups by tenant and shows only the caller tenant', async () => {
    const res = await load(h, tenantToken(5), { measures: ['p_orders.count'], dimensions: ['p_orders.tenant_id'] });
    expect(res.body.data).toEqual([{ 'p_orders.tenant_id': 5, 'p_orders.count': await ordersOf(5) }]);
  });

  it('cannot widen the policy with an or-filter naming another tenant', async () => {
    const res = await load(h, tenantToken(1), {
      measures: ['p_orders.count'],
      filters: [{ or: [{ member: 'p_orders.tenant_id', operator: 'equals', values: ['2'] }, { member: 'p_orders.tenant_id', operator: 'set' }] }],
    });
    expect(only(res.body, 'p_orders.count')).toBe(await ordersOf(1));
  });
});

describe('indirect reads', () => {
  it('filters the policed middle cube of a three-cube join chain', async () => {
    // Items of other tenants' orders fall into the NULL-city bucket (LEFT JOIN), so name the cities.
    const res = await load(h, tenantToken(2), {
      measures: ['u_items.count'], dimensions: ['u_users.city'], order: { 'u_users.city': 'asc' },
      filters: [{ member: 'u_users.city', operator: 'set' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = (await h.db.query(
      `select u.city, count(distinct i.id)::text as n from order_items i join orders o on o.id = i.order_id
       left join users u on u.id = o.user_id where o.tenant_id = 2 and u.city is not null group by u.city order by u.city`)).rows;
    expect(res.body.data.map((r: Record<string, unknown>) => [r['u_users.city'], r['u_items.count']])).toEqual(expected.map((r) => [r.city, r.n]));
  });

  it('filters the policed cube when only the unpoliced end is measured', async () => {
    const res = await load(h, tenantToken(3), { measures: ['u_items.quantity'], filters: [{ member: 'p_orders.status', operator: 'set' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 'u_items.quantity')).toBe(
      await truth(h, 'select sum(i.quantity) from order_items i join orders o on o.id = i.order_id where o.tenant_id = 3'));
  });

  it('applies the policed cube policy inside a sub_query dimension', async () => {
    const res2 = await load(h, tenantToken(2), { measures: ['u_users.count'], dimensions: ['u_users.order_count'] });
    expect(res2.status, JSON.stringify(res2.body)).toBe(200);
    const expected = (await h.db.query(
      `select s.n, count(*)::text as c from users u left join (select user_id, count(*) as n from orders where tenant_id = 2 group by user_id) s
         on s.user_id = u.id group by s.n`)).rows;
    const got = new Map(res2.body.data.map((r: Record<string, unknown>) => [Number(r['u_users.order_count'] ?? 0), r['u_users.count']]));
    expect(got).toEqual(new Map(expected.map((r) => [Number(r.n ?? 0), r.c])));
  });

  it('applies the policy of the cube behind a view with prefix and alias', async () => {
    const res = await load(h, tenantToken(1), { measures: ['v_orders.o_count'], dimensions: ['v_orders.o_tenant_id'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual([{ 'v_orders.o_tenant_id': 1, 'v_orders.o_count': await ordersOf(1) }]);
  });

  it('applies a view own row policy over an unpoliced cube', async () => {
    const res = await load(h, tenantToken(4), { measures: ['v_users.count'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 'v_users.count')).toBe(await truth(h, 'select count(*) from users where tenant_id = 4'));
  });

  it('refuses a view member outside the view member_level includes as an unknown member', async () => {
    const res = await load(h, tenantToken(4), { measures: ['v_users.count'], dimensions: ['v_users.tenant_id'] });
    expect([res.status, res.body]).toEqual([400, { error: 'Unknown member: v_users.tenant_id', code: 'ERR_QUERY_UNKNOWN_MEMBER' }]);
  });

  it('does not re-expose through a view a member the cube policy excludes', async () => {
    const res = await load(h, tenantToken(1), { measures: ['v_orders.o_count'], dimensions: ['v_orders.o_notes'] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_QUERY_UNKNOWN_MEMBER');
  });
});

describe('query shapes', () => {
  it('applies the policy to every range of a compareDateRange query', async () => {
    const res = await load(h, tenantToken(2), {
      measures: ['p_orders.count'],
      timeDimensions: [{ dimension: 'p_orders.created_at', compareDateRange: [['2024-01-01', '2024-06-30'], ['2024-07-01', '2024-12-31']] }],
    }, { queryType: 'multi' });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const counts = res.body.results.map((r: { data: Record<string, unknown>[] }) => String(r.data[0]?.['p_orders.count'] ?? '0'));
    expect(counts).toEqual([
      await truth(h, `select count(*) from orders where tenant_id = 2 and created_at >= '2024-01-01' and created_at < '2024-07-01'`),
      await truth(h, `select count(*) from orders where tenant_id = 2 and created_at >= '2024-07-01' and created_at < '2025-01-01'`),
    ]);
  });

  it('applies the policy to every query of a blending array', async () => {
    const td = (cube: string) => [{ dimension: `${cube}.created_at`, granularity: 'year', dateRange: ['2020-01-01', '2030-12-31'] }];
    const res = await load(h, tenantToken(5), [
      { measures: ['p_orders.count'], timeDimensions: td('p_orders') }, { measures: ['s_orders.count'], timeDimensions: td('s_orders') },
    ], { queryType: 'multi' });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const sums = res.body.results.map((r: { data: Record<string, unknown>[] }) =>
      String(r.data.reduce((a, row) => a + Number(Object.entries(row).find(([k]) => k.endsWith('.count'))![1]), 0)));
    expect(sums).toEqual([await ordersOf(5), await ordersOf(5)]);
  });

  it('counts total over the caller tenant only', async () => {
    const res = await load(h, tenantToken(3), { dimensions: ['p_orders.status'], measures: ['p_orders.count'], total: true, limit: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(String(res.body.total)).toBe(await truth(h, 'select count(distinct status) from orders where tenant_id = 3'));
  });

  it('returns only caller tenant rows in an ungrouped query', async () => {
    const res = await load(h, tenantToken(4), { dimensions: ['p_orders.tenant_id', 'p_orders.status'], ungrouped: true, limit: 50000 });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    expect(String(res.body.data.length)).toBe(await ordersOf(4));
    expect(new Set(res.body.data.map((r: Record<string, unknown>) => r['p_orders.tenant_id']))).toEqual(new Set([4]));
  });

  it('never serves one tenant a result cached for another, back to back, with and without renewQuery', async () => {
    const q = { measures: ['p_orders.count'], dimensions: ['p_orders.status'], order: { 'p_orders.status': 'asc' } };
    for (const renewQuery of [false, true, false]) {
      for (const tenant of [1, 2, 1, 2]) {
        const res = await load(h, tenantToken(tenant), { ...q, renewQuery });
        expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
        const expected = (await h.db.query('select status, count(*)::text n from orders where tenant_id = $1 group by status order by status', [tenant])).rows;
        expect(res.body.data.map((r: Record<string, unknown>) => [r['p_orders.status'], r['p_orders.count']]))
          .toEqual(expected.map((r) => [r.status, r.n]));
      }
    }
  });

  it('never shares the cache between a numeric and a string tenant claim of different tenants in parallel', async () => {
    const tokens = [tenantToken(1), tenantToken('2'), tenantToken(3), tenantToken('1')];
    const results = await Promise.all(tokens.map((tok) => load(h, tok, { measures: ['s_orders.count'] })));
    expect(results.map((r) => r.body.data?.[0]?.['s_orders.count'])).toEqual([
      await ordersOf(1), await ordersOf(2), await ordersOf(3), await ordersOf(1),
    ]);
  });
});
