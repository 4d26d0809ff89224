/**
 * order / limit / offset / total, ungrouped, responseFormat, compareDateRange and blending.
 */
import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { bucket, fmt, local, rowsOf, type ConformanceCase } from '../harness.js';

const LOCAL = "yyyy-MM-dd'T'HH:mm:ss.SSS";

export const ORDER_LIMIT_CASES: readonly ConformanceCase[] = [
  {
    name: 'order by a measure descending with a tie-breaker and a limit',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], order: [['Orders.count', 'desc'], ['Orders.userId', 'asc']], limit: 5 },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT 5`,
    ordered: true,
  },
  {
    name: 'order by a dimension with offset and limit',
    ctx: 'tenant3',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Orders.userId'], order: { 'Orders.userId': 'asc' }, limit: 7, offset: 10 },
    sql: `SELECT user_id AS "Orders.userId", sum(amount) AS "Orders.totalAmount" FROM orders GROUP BY 1 ORDER BY 1 LIMIT 7 OFFSET 10`,
    ordered: true,
  },
  {
    name: 'default order with measures and dimensions is the first measure descending',
    ctx: 'dev',
    query: { measures: ['Orders.totalAmount', 'Orders.count'], dimensions: ['Products.category'] },
    sql: `SELECT p.category AS "Products.category", sum(o.amount) AS "Orders.totalAmount", count(*) AS "Orders.count"
          FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1 ORDER BY 2 DESC`,
    ordered: true,
  },
  {
    name: 'default order with a granular time dimension is time ascending',
    ctx: 'tenant5',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }], filters: [{ member: 'Orders.status', operator: 'equals', values: ['shipped'] }] },
    sql: `SELECT status AS "Orders.status", ${bucket('year', 'created_at')} AS "Orders.createdAt.year", count(*) AS "Orders.count" FROM orders WHERE status = 'shipped' GROUP BY 1, 2 ORDER BY 2`,
    ordered: true,
  },
  {
    name: 'default order with dimensions only is the first dimension ascending',
    ctx: 'tenant4',
    query: { dimensions: ['Users.city', 'Users.tenantId'] },
    sql: `SELECT DISTINCT city AS "Users.city", tenant_id AS "Users.tenantId" FROM users ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'order by a joined cube\'s dimension descending',
    ctx: 'user47tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Products.name'], order: [['Products.name', 'desc']], limit: 10 },
    sql: `SELECT p.name AS "Products.name", count(*) AS "Orders.count" FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1 ORDER BY 1 DESC LIMIT 10`,
    ordered: true,
  },
  {
    name: 'order by two keys in the array form',
    ctx: 'tenant1',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status', 'Orders.quantity'], order: [['Orders.status', 'desc'], ['Orders.quantity', 'asc']] },
    sql: `SELECT status AS "Orders.status", quantity AS "Orders.quantity", count(*) AS "Orders.count" FROM orders GROUP BY 1, 2 ORDER BY 1 DESC, 2 ASC`,
    ordered: true,
  },
  {
    name: 'total counts every row regardless of limit and offset',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], order: { 'Orders.userId': 'asc' }, limit: 3, offset: 2, total: true },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders GROUP BY 1 ORDER BY 1 LIMIT 3 OFFSET 2`,
    ordered: true,
    totalSql: `SELECT count(DISTINCT user_id) AS n FROM orders`,
  },
  {
    name: 'total respects filters and the security context',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.productId'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }], order: { 'Orders.productId': 'asc' }, limit: 2, total: true },
    sql: `SELECT product_id AS "Orders.productId", count(*) AS "Orders.count" FROM orders WHERE status = 'completed' GROUP BY 1 ORDER BY 1 LIMIT 2`,
    ordered: true,
    totalSql: `SELECT count(DISTINCT product_id) AS n FROM orders WHERE status = 'completed'`,
  },
  {
    name: 'total with a measure filter counts the groups that pass it',
    ctx: 'tenant3',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], filters: [{ member: 'Orders.count', operator: 'gt', values: [28] }], order: { 'Orders.userId': 'asc' }, limit: 1, total: true },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders GROUP BY 1 HAVING count(*) > 28 ORDER BY 1 LIMIT 1`,
    ordered: true,
    totalSql: `SELECT count(*) AS n FROM (SELECT user_id FROM orders GROUP BY 1 HAVING count(*) > 28) x`,
  },
];

export const UNGROUPED_CASES: readonly ConformanceCase[] = [
  {
    name: 'ungrouped returns one row per order with raw measure values',
    ctx: 'user42',
    query: { dimensions: ['Orders.status', 'Orders.createdAt'], measures: ['Orders.totalAmount', 'Orders.count'], ungrouped: true, order: { 'Orders.createdAt': 'asc' }, limit: 20 },
    sql: `SELECT status AS "Orders.status", ${fmt(local('created_at'))} AS "Orders.createdAt", amount AS "Orders.totalAmount", 1 AS "Orders.count" FROM orders ORDER BY created_at LIMIT 20`,
    ordered: true,
  },
  {
    name: 'ungrouped keeps duplicate dimension tuples',
    ctx: 'tenant2',
    query: { dimensions: ['Orders.status', 'Orders.quantity'], ungrouped: true, filters: [{ member: 'Orders.userId', operator: 'equals', values: [7] }] },
    sql: `SELECT status AS "Orders.status", quantity AS "Orders.quantity" FROM orders WHERE user_id = 7`,
  },
  {
    name: 'ungrouped across a belongsTo join',
    ctx: 'tenant4',
    query: { dimensions: ['Users.name', 'Orders.amount'], ungrouped: true, filters: [{ member: 'Orders.amount', operator: 'gt', values: [4500] }] },
    sql: `SELECT u.name AS "Users.name", o.amount AS "Orders.amount" FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE o.amount > 4500`,
  },
  {
    name: 'ungrouped count with a filter is 1 or null per row',
    ctx: 'user7',
    query: { dimensions: ['Orders.status'], measures: ['Orders.completedCount'], ungrouped: true },
    sql: `SELECT status AS "Orders.status", CASE WHEN status = 'completed' THEN 1 END AS "Orders.completedCount" FROM orders`,
  },
];

export const FORMAT_CASES: readonly ConformanceCase[] = [
  {
    name: 'compact responseFormat returns members and a dataset',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], responseFormat: 'compact' },
    sql: `SELECT status AS "Orders.status", count(*) AS "Orders.count" FROM orders GROUP BY 1`,
    verify: (body) => {
      const data = body.data as { members: string[]; dataset: unknown[][] };
      expect([...data.members].sort()).toEqual(['Orders.count', 'Orders.status']);
      expect(data.dataset.every((r) => Array.isArray(r) && r.length === 2)).toBe(true);
    },
  },
  {
    name: 'columnar responseFormat returns members and columns',
    ctx: 'user42',
    query: { measures: ['Orders.totalAmount'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }], responseFormat: 'columnar' },
    sql: `SELECT ${bucket('year', 'created_at')} AS "Orders.createdAt.year", sum(amount) AS "Orders.totalAmount" FROM orders GROUP BY 1 ORDER BY 1`,
    ordered: true,
    verify: (body) => {
      const data = body.data as { members: string[]; columns: unknown[][] };
      expect(data.members).toContain('Orders.createdAt.year');
      expect(data.columns).toHaveLength(data.members.length);
    },
  },
  {
    name: 'compact responseFormat inside the multi envelope',
    ctx: 'tenant3',
    multi: true,
    query: { measures: ['Users.count'], dimensions: ['Users.city'], responseFormat: 'compact' },
    sql: `SELECT city AS "Users.city", count(*) AS "Users.count" FROM users GROUP BY 1`,
    verify: (body) => {
      expect(body.queryType).toBe('regularQuery');
      expect(Array.isArray(body.results)).toBe(true);
    },
  },
];

const compareVerify = (n: number) => (body: Record<string, unknown>) => {
  expect(body.queryType).toBe('compareDateRangeQuery');
  expect(body.results as unknown[]).toHaveLength(n);
  expect((body.pivotQuery as { dimensions: string[] }).dimensions[0]).toBe('compareDateRange');
};

const lastYear = (): [string, string] => {
  const y = DateTime.now().setZone('UTC').minus({ years: 1 });
  return [y.startOf('year').toFormat(LOCAL), y.endOf('year').toFormat(LOCAL)];
};

export const COMPARE_CASES: readonly ConformanceCase[] = [
  {
    name: 'compareDateRange with two absolute ranges returns one result per range',
    ctx: 'tenant2',
    multi: true,
    query: { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', compareDateRange: [['2024-01-01', '2024-03-31'], ['2025-01-01', '2025-03-31']] }] },
    sql: ['2024', '2025'].map(
      (y) => `SELECT ${bucket('month', 'created_at')} AS "Orders.createdAt.month", count(*) AS "Orders.count", '${y}-01-01T00:00:00.000 - ${y}-03-31T23:59:59.999' AS "compareDateRange"
              FROM orders WHERE created_at >= '${y}-01-01Z' AND created_at < '${y}-04-01Z' GROUP BY 1 ORDER BY 1`,
    ),
    ordered: true,
    verify: compareVerify(2),
  },
  {
    name: 'compareDateRange with a relative and a from-to range by status',
    ctx: 'user42',
    multi: true,
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [{ dimension: 'Orders.createdAt', compareDateRange: ['last year', 'from 2024-01-01 to 2024-12-31'] }] },
    sql: [
      () => {
        const [a, b] = lastYear();
        return `SELECT status AS "Orders.status", count(*) AS "Orders.count", '${a} - ${b}' AS "compareDateRange" FROM orders
                WHERE created_at >= timestamp '${a}' AT TIME ZONE 'UTC' AND created_at <= timestamp '${b}' AT TIME ZONE 'UTC' GROUP BY 1`;
      },
      `SELECT status AS "Orders.status", count(*) AS "Orders.count", '2024-01-01T00:00:00.000 - 2024-12-31T23:59:59.999' AS "compareDateRange" FROM orders
       WHERE created_at >= '2024-01-01Z' AND created_at < '2025-01-01Z' GROUP BY 1`,
    ],
    verify: compareVerify(2),
  },
  {
    name: 'compareDateRange with three quarters in America/New_York',
    ctx: 'tenant5',
    multi: true,
    query: {
      measures: ['Orders.totalAmount'],
      timezone: 'America/New_York',
      timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'week', compareDateRange: [['2023-04-01', '2023-06-30'], ['2024-04-01', '2024-06-30'], ['2025-04-01', '2025-06-30']] }],
    },
    sql: ['2023', '2024', '2025'].map(
      (y) => `SELECT ${bucket('week', 'created_at', 'America/New_York')} AS "Orders.createdAt.week", sum(amount) AS "Orders.totalAmount",
                     '${y}-04-01T00:00:00.000 - ${y}-06-30T23:59:59.999' AS "compareDateRange"
              FROM orders WHERE created_at >= timestamp '${y}-04-01' AT TIME ZONE 'America/New_York' AND created_at < timestamp '${y}-07-01' AT TIME ZONE 'America/New_York'
              GROUP BY 1 ORDER BY 1`,
    ),
    ordered: true,
    verify: compareVerify(3),
  },
  {
    name: 'compareDateRange across a join with a filter',
    ctx: 'tenants13',
    multi: true,
    query: {
      measures: ['Orders.count'],
      dimensions: ['Tenants.name'],
      filters: [{ member: 'Orders.status', operator: 'equals', values: ['cancelled'] }],
      timeDimensions: [{ dimension: 'Orders.createdAt', compareDateRange: [['2023-12-01', '2023-12-31'], ['2024-12-01', '2024-12-31']] }],
    },
    sql: ['2023', '2024'].map(
      (y) => `SELECT t.name AS "Tenants.name", count(*) AS "Orders.count", '${y}-12-01T00:00:00.000 - ${y}-12-31T23:59:59.999' AS "compareDateRange"
              FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id
              WHERE o.status = 'cancelled' AND o.created_at >= '${y}-12-01Z' AND o.created_at < '${Number(y) + 1}-01-01Z' GROUP BY 1`,
    ),
    verify: compareVerify(2),
  },
];

const blendVerify = (n: number) => (body: Record<string, unknown>) => {
  expect(body.queryType).toBe('blendingQuery');
  expect(body.results as unknown[]).toHaveLength(n);
  const pivot = body.pivotQuery as { timeDimensions: { dimension: string }[] };
  expect(pivot.timeDimensions[0]?.dimension).toBe('time');
};

export const BLENDING_CASES: readonly ConformanceCase[] = [
  {
    name: 'a blending query of two cubes by month adds time.month to each row',
    ctx: 'tenant2',
    multi: true,
    query: [
      { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2024-01-01', '2024-06-30'] }] },
      { measures: ['Users.count'], timeDimensions: [{ dimension: 'Users.createdAt', granularity: 'month' }] },
    ],
    sql: [
      `SELECT ${bucket('month', 'created_at')} AS "Orders.createdAt.month", ${bucket('month', 'created_at')} AS "time.month", count(*) AS "Orders.count"
       FROM orders WHERE created_at >= '2024-01-01Z' AND created_at < '2024-07-01Z' GROUP BY 1 ORDER BY 1`,
      `SELECT ${bucket('month', 'created_at')} AS "Users.createdAt.month", ${bucket('month', 'created_at')} AS "time.month", count(*) AS "Users.count" FROM users GROUP BY 1 ORDER BY 1`,
    ],
    ordered: true,
    verify: blendVerify(2),
  },
  {
    name: 'a blending query with dimensions and a hasMany cube for user 42',
    ctx: 'user42',
    multi: true,
    query: [
      { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }] },
      { measures: ['OrderItems.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }] },
    ],
    sql: [
      `SELECT status AS "Orders.status", ${bucket('year', 'created_at')} AS "Orders.createdAt.year", ${bucket('year', 'created_at')} AS "time.year", count(*) AS "Orders.count" FROM orders GROUP BY 1, 2`,
      `SELECT ${bucket('year', 'o.created_at')} AS "Orders.createdAt.year", ${bucket('year', 'o.created_at')} AS "time.year", count(i.id) AS "OrderItems.count"
       FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1`,
    ],
    verify: blendVerify(2),
  },
  {
    name: 'a blending query in a timezone for a tenant array',
    ctx: 'tenants13',
    multi: true,
    query: [
      { measures: ['Orders.totalAmount'], timezone: 'Asia/Kolkata', timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'quarter', dateRange: ['2025-01-01', '2025-12-31'] }] },
      { measures: ['Orders.uniqueUsers'], timezone: 'Asia/Kolkata', timeDimensions: [{ dimension: 'Orders.shippedAt', granularity: 'quarter', dateRange: ['2025-01-01', '2025-12-31'] }] },
    ],
    sql: [
      `SELECT ${bucket('quarter', 'created_at', 'Asia/Kolkata')} AS "Orders.createdAt.quarter", ${bucket('quarter', 'created_at', 'Asia/Kolkata')} AS "time.quarter", sum(amount) AS "Orders.totalAmount"
       FROM orders WHERE created_at >= timestamp '2025-01-01' AT TIME ZONE 'Asia/Kolkata' AND created_at < timestamp '2026-01-01' AT TIME ZONE 'Asia/Kolkata' GROUP BY 1 ORDER BY 1`,
      `SELECT ${bucket('quarter', 'shipped_at', 'Asia/Kolkata')} AS "Orders.shippedAt.quarter", ${bucket('quarter', 'shipped_at', 'Asia/Kolkata')} AS "time.quarter", count(DISTINCT user_id) AS "Orders.uniqueUsers"
       FROM orders WHERE shipped_at >= timestamp '2025-01-01' AT TIME ZONE 'Asia/Kolkata' AND shipped_at < timestamp '2026-01-01' AT TIME ZONE 'Asia/Kolkata' GROUP BY 1 ORDER BY 1`,
    ],
    ordered: true,
    verify: (body) => {
      blendVerify(2)(body);
      expect(rowsOf((body.results as { data: unknown }[])[1]?.data).length).toBeGreaterThan(0);
    },
  },
];
