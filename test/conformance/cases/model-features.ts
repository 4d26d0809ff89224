/**
 * Model features on the extended model (demo + test/conformance/model): extends, views
 * (aliases, prefixes, hidden members), rollingWindow, subQuery dimensions and FILTER_PARAMS.
 *
 * Rolling windows follow Cube: one row per bucket of the date range; the window ends at the
 * bucket's end (offset `end`) or starts at its start (offset `start`), and reaches back past
 * the date range.
 */
import { expect } from 'vitest';
import { bucket, fmt, type ConformanceCase, type ErrorCase } from '../harness.js';

const f = (member: string, operator: string, values?: unknown[]) => (values ? { member, operator, values } : { member, operator });

/** Local day buckets from `from` to `to` (inclusive), as `d` (timestamp without time zone). */
const days = (from: string, to: string) => `generate_series(timestamp '${from}', timestamp '${to}', interval '1 day') AS d`;
const months = (from: string, to: string) => `generate_series(timestamp '${from}', timestamp '${to}', interval '1 month') AS d`;

const EXT = { model: 'extended' } as const;

export const EXTENDS_CASES: readonly ConformanceCase[] = [
  {
    ...EXT,
    name: 'extends: a child cube inherits measures, dimensions and the security filter',
    ctx: 'tenant3',
    query: { measures: ['Sales.count', 'Sales.totalAmount', 'Sales.completedRatio'], dimensions: ['Sales.status'] },
    sql: `SELECT status AS "Sales.status", count(*) AS "Sales.count", sum(amount) AS "Sales.totalAmount", 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) AS "Sales.completedRatio"
          FROM orders GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'extends: inherited case dimension and segment',
    ctx: 'user42',
    query: { measures: ['Sales.count'], dimensions: ['Sales.sizeBucket'], segments: ['Sales.completed'] },
    sql: `SELECT CASE WHEN amount < 100 THEN 'small' WHEN amount < 500 THEN 'medium' ELSE 'large' END AS "Sales.sizeBucket", count(*) AS "Sales.count"
          FROM orders WHERE status = 'completed' GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'extends: inherited joins reach users and fan out to items',
    ctx: 'tenant2',
    query: { measures: ['Sales.totalAmount', 'OrderItems.count'], dimensions: ['Users.city'] },
    sql: `SELECT a.city AS "Users.city", a.total AS "Sales.totalAmount", b.n AS "OrderItems.count"
          FROM (SELECT u.city, sum(o.amount) AS total FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1) a
          JOIN (SELECT u.city, count(*) AS n FROM order_items i JOIN orders o ON o.id = i.order_id LEFT JOIN users u ON u.id = o.user_id GROUP BY 1) b ON b.city = a.city`,
  },
];

export const VIEW_CASES: readonly ConformanceCase[] = [
  {
    ...EXT,
    name: 'view: measures and a dimension of the root cube',
    ctx: 'tenant2',
    query: { measures: ['OrdersView.count', 'OrdersView.totalAmount'], dimensions: ['OrdersView.status'] },
    sql: `SELECT status AS "OrdersView.status", count(*) AS "OrdersView.count", sum(amount) AS "OrdersView.totalAmount" FROM orders GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: a member of a joined cube',
    ctx: 'user42',
    query: { measures: ['OrdersView.count'], dimensions: ['OrdersView.city'] },
    sql: `SELECT u.city AS "OrdersView.city", count(*) AS "OrdersView.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: a prefixed member two joins away',
    ctx: 'dev',
    query: { measures: ['OrdersView.count'], dimensions: ['OrdersView.Tenants_plan'] },
    sql: `SELECT t.plan AS "OrdersView.Tenants_plan", count(*) AS "OrdersView.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: fan-out through the view does not double count',
    ctx: 'tenant3',
    query: { measures: ['OrdersView.totalAmount', 'OrdersView.itemRevenue', 'OrdersView.itemCount'], dimensions: ['OrdersView.category'] },
    sql: `SELECT a.cat AS "OrdersView.category", a.total AS "OrdersView.totalAmount", b.rev AS "OrdersView.itemRevenue", b.n AS "OrdersView.itemCount"
          FROM (SELECT p.category AS cat, sum(o.amount) AS total FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1) a
          JOIN (SELECT p.category AS cat, sum(i.quantity * i.price) AS rev, count(*) AS n FROM orders o LEFT JOIN products p ON p.id = o.product_id JOIN order_items i ON i.order_id = o.id GROUP BY 1) b ON b.cat = a.cat`,
  },
  {
    ...EXT,
    name: 'view: an aliased member',
    ctx: 'users424344',
    query: { measures: ['OrdersView.avgAmount'], dimensions: ['OrdersView.customerName'] },
    sql: `SELECT u.name AS "OrdersView.customerName", avg(o.amount) AS "OrdersView.avgAmount" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: a hasMany measure by month',
    ctx: 'tenant4',
    query: { measures: ['OrdersView.itemCount'], timeDimensions: [{ dimension: 'OrdersView.createdAt', granularity: 'month', dateRange: ['2025-01-01', '2025-06-30'] }] },
    sql: `SELECT ${bucket('month', 'o.created_at')} AS "OrdersView.createdAt.month", count(i.id) AS "OrdersView.itemCount" FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
          WHERE o.created_at >= '2025-01-01Z' AND o.created_at < '2025-07-01Z' GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'view: a filter on a view member of a joined cube',
    ctx: 'tenant2',
    query: { measures: ['OrdersView.count'], dimensions: ['OrdersView.status'], filters: [f('OrdersView.city', 'equals', ['Paris'])] },
    sql: `SELECT o.status AS "OrdersView.status", count(*) AS "OrdersView.count" FROM orders o JOIN users u ON u.id = o.user_id WHERE u.city = 'Paris' GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: includes star exposes the visible members of an extended cube',
    ctx: 'tenant1',
    query: { measures: ['SalesView.count', 'SalesView.uniqueUsers'], dimensions: ['SalesView.status'] },
    sql: `SELECT status AS "SalesView.status", count(*) AS "SalesView.count", count(DISTINCT user_id) AS "SalesView.uniqueUsers" FROM orders GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'view: a measure filter on a view measure',
    ctx: 'tenant5',
    query: { measures: ['OrdersView.count'], dimensions: ['OrdersView.city'], filters: [f('OrdersView.count', 'gt', [2450])] },
    sql: `SELECT u.city AS "OrdersView.city", count(*) AS "OrdersView.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1 HAVING count(*) > 2450`,
  },
];

export const ROLLING_WINDOW_CASES: readonly ConformanceCase[] = [
  {
    ...EXT,
    name: 'rollingWindow: a 7 day trailing sum per day reaches back before the range',
    ctx: 'tenant2',
    query: { measures: ['Sales.rolling7DayAmount'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'day', dateRange: ['2024-03-01', '2024-03-14'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.day",
                 (SELECT sum(amount) FROM orders WHERE created_at >= (d - interval '6 day') AT TIME ZONE 'UTC' AND created_at < (d + interval '1 day') AT TIME ZONE 'UTC') AS "Sales.rolling7DayAmount"
          FROM ${days('2024-03-01', '2024-03-14')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: an unbounded cumulative count per month',
    ctx: 'tenant3',
    query: { measures: ['Sales.cumulativeCount'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'month', dateRange: ['2024-01-01', '2024-06-30'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.month", (SELECT count(*) FROM orders WHERE created_at < (d + interval '1 month') AT TIME ZONE 'UTC') AS "Sales.cumulativeCount"
          FROM ${months('2024-01-01', '2024-06-01')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: a year-to-date sum per month',
    ctx: 'dev',
    query: { measures: ['Sales.yearToDateAmount'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'month', dateRange: ['2024-10-01', '2025-03-31'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.month",
                 (SELECT sum(amount) FROM orders WHERE created_at >= date_trunc('year', d) AT TIME ZONE 'UTC' AND created_at < (d + interval '1 month') AT TIME ZONE 'UTC') AS "Sales.yearToDateAmount"
          FROM ${months('2024-10-01', '2025-03-01')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: trailing and leading days from the bucket start',
    ctx: 'tenant1',
    query: { measures: ['Sales.twoDayCount'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'day', dateRange: ['2024-07-01', '2024-07-07'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.day",
                 (SELECT count(*) FROM orders WHERE created_at >= (d - interval '1 day') AT TIME ZONE 'UTC' AND created_at < (d + interval '1 day') AT TIME ZONE 'UTC') AS "Sales.twoDayCount"
          FROM ${days('2024-07-01', '2024-07-07')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: a sparse user keeps every bucket of the range, in Asia/Tokyo',
    ctx: 'user42',
    query: {
      measures: ['Sales.rolling7DayAmount'],
      timezone: 'Asia/Tokyo',
      timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'day', dateRange: ['2024-05-01', '2024-05-31'] }],
    },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.day",
                 (SELECT sum(amount) FROM orders WHERE created_at >= (d - interval '6 day') AT TIME ZONE 'Asia/Tokyo' AND created_at < (d + interval '1 day') AT TIME ZONE 'Asia/Tokyo') AS "Sales.rolling7DayAmount"
          FROM ${days('2024-05-01', '2024-05-31')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: a cumulative count next to a regular count',
    ctx: 'tenant5',
    query: { measures: ['Sales.count', 'Sales.cumulativeCount'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'month', dateRange: ['2025-01-01', '2025-06-30'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.month",
                 (SELECT count(*) FROM orders WHERE created_at >= d AT TIME ZONE 'UTC' AND created_at < (d + interval '1 month') AT TIME ZONE 'UTC') AS "Sales.count",
                 (SELECT count(*) FROM orders WHERE created_at < (d + interval '1 month') AT TIME ZONE 'UTC') AS "Sales.cumulativeCount"
          FROM ${months('2025-01-01', '2025-06-01')} ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: a trailing sum per day and status',
    ctx: 'tenant2',
    query: { measures: ['Sales.rolling7DayAmount'], dimensions: ['Sales.status'], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'day', dateRange: ['2024-03-01', '2024-03-05'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.day", s.status AS "Sales.status",
                 (SELECT sum(amount) FROM orders WHERE status = s.status AND created_at >= (d - interval '6 day') AT TIME ZONE 'UTC' AND created_at < (d + interval '1 day') AT TIME ZONE 'UTC') AS "Sales.rolling7DayAmount"
          FROM ${days('2024-03-01', '2024-03-05')} CROSS JOIN (SELECT DISTINCT status FROM orders) s`,
  },
  {
    ...EXT,
    name: 'rollingWindow: a filter applies to the rows inside each window',
    ctx: 'tenant4',
    query: { measures: ['Sales.cumulativeCount'], filters: [f('Sales.status', 'equals', ['cancelled'])], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'quarter', dateRange: ['2024-01-01', '2024-12-31'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.quarter", (SELECT count(*) FROM orders WHERE status = 'cancelled' AND created_at < (d + interval '3 month') AT TIME ZONE 'UTC') AS "Sales.cumulativeCount"
          FROM generate_series(timestamp '2024-01-01', timestamp '2024-10-01', interval '3 month') AS d ORDER BY 1`,
    ordered: true,
  },
  {
    ...EXT,
    name: 'rollingWindow: a trailing sum over a fan-out filter counts each order once',
    ctx: 'tenant3',
    query: { measures: ['Sales.rolling7DayAmount'], filters: [f('OrderItems.quantity', 'gte', [4])], timeDimensions: [{ dimension: 'Sales.createdAt', granularity: 'day', dateRange: ['2024-09-01', '2024-09-07'] }] },
    sql: `SELECT ${fmt('d')} AS "Sales.createdAt.day",
                 (SELECT sum(amount) FROM orders o WHERE created_at >= (d - interval '6 day') AT TIME ZONE 'UTC' AND created_at < (d + interval '1 day') AT TIME ZONE 'UTC'
                     AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.quantity >= 4)) AS "Sales.rolling7DayAmount"
          FROM ${days('2024-09-01', '2024-09-07')} ORDER BY 1`,
    ordered: true,
  },
];

export const SUBQUERY_CASES: readonly ConformanceCase[] = [
  {
    ...EXT,
    name: 'subQuery: customers grouped by their order count',
    ctx: 'tenant2',
    query: { measures: ['Customers.count'], dimensions: ['Customers.orderCount'] },
    sql: `SELECT n AS "Customers.orderCount", count(*) AS "Customers.count" FROM (SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS n FROM users u) x GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'subQuery: an avg measure over a subQuery dimension per city',
    ctx: 'dev',
    query: { measures: ['Customers.avgOrderCount'], dimensions: ['Customers.city'] },
    sql: `SELECT city AS "Customers.city", avg(n) AS "Customers.avgOrderCount" FROM (SELECT u.city, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS n FROM users u) x GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'subQuery: a filter on a subQuery dimension',
    ctx: 'tenant3',
    query: { measures: ['Customers.count'], dimensions: ['Customers.city'], filters: [f('Customers.lifetimeValue', 'gt', [36000])] },
    sql: `SELECT city AS "Customers.city", count(*) AS "Customers.count" FROM users u WHERE (SELECT sum(amount) FROM orders o WHERE o.user_id = u.id) > 36000 GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'subQuery: the subquery keeps the security filter of the joined cube',
    ctx: 'user42',
    query: { measures: ['Customers.totalLifetimeValue'], dimensions: ['Customers.orderCount'] },
    sql: `SELECT count(*) AS "Customers.orderCount", sum(amount) AS "Customers.totalLifetimeValue" FROM tessera_demo.orders WHERE user_id = 42`,
  },
  {
    ...EXT,
    name: 'subQuery: a tenant array sums lifetime values of its customers',
    ctx: 'tenants13',
    query: { measures: ['Customers.totalLifetimeValue', 'Customers.count'], dimensions: ['Customers.city'] },
    sql: `SELECT u.city AS "Customers.city", (SELECT sum(o.amount) FROM orders o JOIN users u2 ON u2.id = o.user_id WHERE u2.city = u.city) AS "Customers.totalLifetimeValue", count(*) AS "Customers.count"
          FROM users u GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'subQuery: customers multiplied by their orders are summed once each',
    ctx: 'tenant2',
    query: { measures: ['Customers.count', 'Customers.totalLifetimeValue'], dimensions: ['Orders.status'] },
    sql: `SELECT s.status AS "Orders.status", count(*) AS "Customers.count", sum(l.ltv) AS "Customers.totalLifetimeValue"
          FROM (SELECT DISTINCT o.status, u.id FROM users u JOIN orders o ON o.user_id = u.id) s
          JOIN (SELECT user_id, sum(amount) AS ltv FROM orders GROUP BY 1) l ON l.user_id = s.id GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'subQuery: outer filters are not propagated into the subquery',
    ctx: 'tenant5',
    query: { measures: ['Customers.count'], dimensions: ['Customers.orderCount'], filters: [f('Orders.status', 'equals', ['cancelled'])] },
    sql: `SELECT n.n AS "Customers.orderCount", count(*) AS "Customers.count"
          FROM users u JOIN (SELECT user_id, count(*) AS n FROM orders GROUP BY 1) n ON n.user_id = u.id
          WHERE u.id IN (SELECT user_id FROM orders WHERE status = 'cancelled') GROUP BY 1`,
  },
];

const sqlHas = (pattern: RegExp) => async (_body: Record<string, unknown>, api: { sql(): Promise<readonly [string, readonly unknown[]]> }) => {
  const [text] = await api.sql();
  expect(text).toMatch(pattern);
};

export const FILTER_PARAMS_CASES: readonly ConformanceCase[] = [
  {
    ...EXT,
    name: 'FILTER_PARAMS: a status filter is rendered inside the cube source',
    ctx: 'tenant2',
    query: { measures: ['FilteredOrders.count', 'FilteredOrders.totalAmount'], dimensions: ['FilteredOrders.status'], filters: [f('FilteredOrders.status', 'equals', ['completed', 'shipped'])] },
    sql: `SELECT status AS "FilteredOrders.status", count(*) AS "FilteredOrders.count", sum(amount) AS "FilteredOrders.totalAmount" FROM orders WHERE status IN ('completed', 'shipped') GROUP BY 1`,
    verify: async (_body, api) => {
      const [text, params] = await api.sql();
      // The source query holds its own status condition, so the values are bound twice.
      expect(text).toMatch(/FROM \(SELECT \* FROM tessera_demo\.orders WHERE \(?\(?status IN \(\$\d+, \$\d+\)/);
      expect(params.filter((p) => p === 'completed')).toHaveLength(2);
      expect(text).not.toContain('completed');
    },
  },
  {
    ...EXT,
    name: 'FILTER_PARAMS: without a filter the condition is 1 = 1',
    ctx: 'tenant4',
    query: { measures: ['FilteredOrders.count'], dimensions: ['FilteredOrders.status'] },
    sql: `SELECT status AS "FilteredOrders.status", count(*) AS "FilteredOrders.count" FROM orders GROUP BY 1`,
    verify: sqlHas(/WHERE 1 = 1 AND 1 = 1 AND tenant_id = \$1/),
  },
  {
    ...EXT,
    name: 'FILTER_PARAMS: a date range reaches a callback with bound parameters',
    ctx: 'user42',
    query: { measures: ['FilteredOrders.count'], timeDimensions: [{ dimension: 'FilteredOrders.createdAt', granularity: 'month', dateRange: ['2024-01-01', '2024-06-30'] }] },
    sql: `SELECT ${bucket('month', 'created_at')} AS "FilteredOrders.createdAt.month", count(*) AS "FilteredOrders.count" FROM orders
          WHERE created_at >= '2024-01-01Z' AND created_at < '2024-07-01Z' GROUP BY 1 ORDER BY 1`,
    ordered: true,
    verify: sqlHas(/created_at >= \$\d+::timestamptz AND created_at <= \$\d+::timestamptz/),
  },
  {
    ...EXT,
    name: 'FILTER_PARAMS: an inDateRange filter with a notEquals status',
    ctx: 'tenant5',
    query: {
      measures: ['FilteredOrders.count'],
      dimensions: ['FilteredOrders.status'],
      filters: [f('FilteredOrders.createdAt', 'inDateRange', ['2025-03-01', '2025-03-31']), f('FilteredOrders.status', 'notEquals', ['cancelled'])],
    },
    sql: `SELECT status AS "FilteredOrders.status", count(*) AS "FilteredOrders.count" FROM orders
          WHERE created_at >= '2025-03-01Z' AND created_at < '2025-04-01Z' AND status <> 'cancelled' GROUP BY 1`,
  },
  {
    ...EXT,
    name: 'FILTER_PARAMS: filters inside an or group are not pushed into the source',
    ctx: 'tenant3',
    query: {
      measures: ['FilteredOrders.count'],
      dimensions: ['FilteredOrders.status'],
      filters: [{ or: [f('FilteredOrders.status', 'equals', ['cancelled']), f('FilteredOrders.createdAt', 'inDateRange', ['2025-12-01', '2025-12-31'])] }],
    },
    sql: `SELECT status AS "FilteredOrders.status", count(*) AS "FilteredOrders.count" FROM orders
          WHERE status = 'cancelled' OR (created_at >= '2025-12-01Z' AND created_at < '2026-01-01Z') GROUP BY 1`,
  },
];

export const MODEL_ERROR_CASES: readonly ErrorCase[] = [
  { ...EXT, name: 'a public: false measure cannot be queried', ctx: 'dev', query: { measures: ['Sales.internalTotal'] }, status: 400, message: /internalTotal/ },
  { ...EXT, name: 'a view with includes star does not re-expose a hidden measure', ctx: 'dev', query: { measures: ['SalesView.internalTotal'] }, status: 400, message: /internalTotal/ },
  { ...EXT, name: 'a view with includes star does not re-expose a shown: false dimension', ctx: 'dev', query: { measures: ['SalesView.count'], dimensions: ['SalesView.internalNotes'] }, status: 400, message: /internalNotes/ },
  { ...EXT, name: 'a view does not expose members it did not include', ctx: 'dev', query: { measures: ['OrdersView.count'], dimensions: ['OrdersView.email'] }, status: 400, message: /OrdersView\.email/ },
];
