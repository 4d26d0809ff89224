/**
 * Filter operators (on own and joined cubes), nested groups, measure filters (HAVING)
 * and measureFilter. The expected SQL uses other formulations than LIKE where it can.
 */
import { at, type ConformanceCase, type ErrorCase } from '../harness.js';

type F = Record<string, unknown>;
const f = (member: string, operator: string, values?: unknown[]): F => (values ? { member, operator, values } : { member, operator });

/** Orders.count and totalAmount per status, with `where` on orders `o` joined to users `u` and products `p`. */
const byStatus = (where: string): string =>
  `SELECT o.status AS "Orders.status", count(*) AS "Orders.count", sum(o.amount) AS "Orders.totalAmount"
     FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN products p ON p.id = o.product_id
    WHERE ${where} GROUP BY o.status`;

const q = (filters: F[], extra: Record<string, unknown> = {}) => ({ measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.status'], filters, ...extra });

export const FILTER_CASES: readonly ConformanceCase[] = [
  { name: 'equals on a joined cube dimension', ctx: 'tenant2', query: q([f('Users.city', 'equals', ['Berlin'])]), sql: byStatus(`u.city = 'Berlin'`) },
  { name: 'notEquals on a joined cube dimension', ctx: 'tenant3', query: q([f('Products.category', 'notEquals', ['Books'])]), sql: byStatus(`p.category IS DISTINCT FROM 'Books'`) },
  { name: 'in on a number dimension', ctx: 'dev', query: q([f('Orders.quantity', 'in', [1, '12'])]), sql: byStatus(`o.quantity = ANY (ARRAY[1, 12])`) },
  { name: 'notIn on a string dimension', ctx: 'user42', query: q([f('Orders.status', 'notIn', ['completed', 'cancelled'])]), sql: byStatus(`o.status NOT IN ('completed', 'cancelled')`) },
  { name: 'notIn keeps rows whose value is null', ctx: 'tenant1', query: q([f('Orders.notes', 'notIn', ['', 'Leave at the door'])]), sql: byStatus(`coalesce(o.notes, '<null>') NOT IN ('', 'Leave at the door')`) },
  { name: 'contains a percent sign in a product name', ctx: 'tenant2', query: q([f('Products.name', 'contains', ['0% o'])]), sql: byStatus(`position('0% o' IN lower(p.name)) > 0`) },
  { name: 'contains a backslash in a product name', ctx: 'dev', query: q([f('Products.name', 'contains', ['k\\s'])]), sql: byStatus(`position(E'k\\\\s' IN lower(p.name)) > 0`) },
  { name: 'contains an underscore matches it literally', ctx: 'tenant5', query: q([f('Products.name', 'contains', ['%_p'])]), sql: byStatus(`position('%_p' IN lower(p.name)) > 0`) },
  { name: 'notContains a quote keeps other names', ctx: 'tenant4', query: q([f('Products.name', 'notContains', ["o'r", 'kit'])]), sql: byStatus(`position('o''r' IN lower(p.name)) = 0 AND position('kit' IN lower(p.name)) = 0`) },
  { name: 'startsWith on a joined email', ctx: 'dev', query: q([f('Users.email', 'startsWith', ['USER4'])]), sql: byStatus(`left(u.email, 5) = 'user4'`) },
  { name: 'notStartsWith keeps null notes', ctx: 'tenant2', query: q([f('Orders.notes', 'notStartsWith', ['path'])]), sql: byStatus(`o.notes IS NULL OR lower(left(o.notes, 4)) <> 'path'`) },
  { name: 'endsWith on a joined product name', ctx: 'tenant3', query: q([f('Products.name', 'endsWith', ['KIT'])]), sql: byStatus(`lower(right(p.name, 3)) = 'kit'`) },
  { name: 'notEndsWith several values', ctx: 'user47tenant2', query: q([f('Orders.notes', 'notEndsWith', ['door', 'order'])]), sql: byStatus(`o.notes IS NULL OR (lower(o.notes) NOT LIKE '%door' AND lower(o.notes) NOT LIKE '%order')`) },
  { name: 'gt on an amount', ctx: 'tenant1', query: q([f('Orders.amount', 'gt', ['999.99'])]), sql: byStatus(`o.amount > 999.99`) },
  { name: 'gte on a joined price', ctx: 'tenant2', query: q([f('Products.price', 'gte', [400])]), sql: byStatus(`p.price >= 400`) },
  { name: 'lt on a quantity', ctx: 'users424344', query: q([f('Orders.quantity', 'lt', [2])]), sql: byStatus(`o.quantity < 2`) },
  { name: 'lte on an amount', ctx: 'tenant5', query: q([f('Orders.amount', 'lte', [20.5])]), sql: byStatus(`o.amount <= 20.5`) },
  { name: 'set on a time dimension', ctx: 'tenant3', query: q([f('Orders.shippedAt', 'set')]), sql: byStatus(`o.shipped_at IS NOT NULL`) },
  { name: 'notSet on a string dimension', ctx: 'user42', query: q([f('Orders.notes', 'notSet')]), sql: byStatus(`o.notes IS NULL`) },
  { name: 'equals false on a boolean dimension', ctx: 'tenant2', query: q([f('Orders.isShipped', 'equals', [false])]), sql: byStatus(`o.shipped_at IS NULL`) },
  {
    name: 'inDateRange with two dates',
    ctx: 'tenant2',
    query: q([f('Orders.createdAt', 'inDateRange', ['2024-02-01', '2024-02-29'])]),
    sql: byStatus(`o.created_at >= '2024-02-01T00:00:00Z' AND o.created_at < '2024-03-01T00:00:00Z'`),
  },
  {
    name: 'inDateRange in America/Los_Angeles',
    ctx: 'tenant4',
    query: q([f('Orders.createdAt', 'inDateRange', ['2024-11-01', '2024-11-03'])], { timezone: 'America/Los_Angeles' }),
    sql: byStatus(`o.created_at >= ${at('2024-11-01 00:00:00', 'America/Los_Angeles')} AND o.created_at < ${at('2024-11-04 00:00:00', 'America/Los_Angeles')}`),
  },
  {
    name: 'notInDateRange on a nullable time dimension drops nulls',
    ctx: 'tenant1',
    query: q([f('Orders.shippedAt', 'notInDateRange', ['2023-01-01', '2024-12-31'])]),
    sql: byStatus(`o.shipped_at >= '2025-01-01T00:00:00Z'`),
  },
  { name: 'beforeDate', ctx: 'tenant3', query: q([f('Orders.createdAt', 'beforeDate', ['2023-01-15'])]), sql: byStatus(`o.created_at < '2023-01-15T00:00:00Z'`) },
  { name: 'beforeOrOnDate with a date reads it as that day\'s start, as Cube does', ctx: 'tenant3', query: q([f('Orders.createdAt', 'beforeOrOnDate', ['2023-01-15'])]), sql: byStatus(`o.created_at <= '2023-01-15T00:00:00Z'`) },
  {
    name: 'beforeOrOnDate with a time is inclusive of that instant',
    ctx: 'dev',
    query: q([f('Orders.createdAt', 'beforeOrOnDate', ['2023-01-03T12:00:00'])]),
    sql: byStatus(`o.created_at <= '2023-01-03T12:00:00Z'`),
  },
  { name: 'afterDate with a date reads it as that day\'s start, as Cube does', ctx: 'tenant2', query: q([f('Orders.createdAt', 'afterDate', ['2025-12-20'])]), sql: byStatus(`o.created_at > '2025-12-20T00:00:00Z'`) },
  { name: 'afterOrOnDate includes the day', ctx: 'tenant2', query: q([f('Orders.createdAt', 'afterOrOnDate', ['2025-12-20'])]), sql: byStatus(`o.created_at >= '2025-12-20T00:00:00Z'`) },
  {
    name: 'afterOrOnDate on a joined time dimension in Europe/Berlin',
    ctx: 'dev',
    query: q([f('Users.createdAt', 'afterOrOnDate', ['2022-12-01'])], { timezone: 'Europe/Berlin' }),
    sql: byStatus(`u.created_at >= ${at('2022-12-01 00:00:00', 'Europe/Berlin')}`),
  },
  {
    name: 'afterDate with a time excludes that instant',
    ctx: 'tenant5',
    query: q([f('Orders.createdAt', 'afterDate', ['2025-12-30T18:00:00'])]),
    sql: byStatus(`o.created_at > '2025-12-30T18:00:00Z'`),
  },
  {
    name: 'measureFilter applies the measure\'s own filters as a row filter',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.quantity'], filters: [f('Orders.completedCount', 'measureFilter')] },
    sql: `SELECT quantity AS "Orders.quantity", count(*) AS "Orders.count" FROM orders WHERE status = 'completed' GROUP BY quantity`,
  },
  {
    name: 'an or group of leaf filters',
    ctx: 'tenant4',
    query: q([{ or: [f('Orders.quantity', 'equals', [12]), f('Users.city', 'equals', ['Sydney'])] }]),
    sql: byStatus(`o.quantity = 12 OR u.city = 'Sydney'`),
  },
  {
    name: 'and inside or inside and',
    ctx: 'dev',
    query: q([
      {
        and: [
          f('Orders.createdAt', 'inDateRange', ['2024-01-01', '2024-12-31']),
          { or: [{ and: [f('Orders.status', 'equals', ['cancelled']), f('Orders.amount', 'gt', [1000])] }, f('Products.category', 'equals', ['Books'])] },
        ],
      },
    ]),
    sql: byStatus(`o.created_at >= '2024-01-01Z' AND o.created_at < '2025-01-01Z' AND ((o.status = 'cancelled' AND o.amount > 1000) OR p.category = 'Books')`),
  },
  {
    name: 'an or group across three cubes with a null check',
    ctx: 'tenant3',
    query: q([{ or: [f('Orders.notes', 'equals', ['']), f('UserProfiles.bio', 'notSet')] }]),
    sql: `SELECT o.status AS "Orders.status", count(*) AS "Orders.count", sum(o.amount) AS "Orders.totalAmount"
            FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN user_profiles up ON up.user_id = u.id
           WHERE o.notes = '' OR up.bio IS NULL GROUP BY o.status`,
  },
  {
    name: 'the legacy dimension key of a filter',
    ctx: 'tenant2',
    query: q([{ dimension: 'Orders.status', operator: 'equals', values: ['shipped'] }]),
    sql: byStatus(`o.status = 'shipped'`),
  },
  {
    name: 'onTheDate selects one day',
    ctx: 'dev',
    query: q([f('Orders.createdAt', 'onTheDate', ['2024-07-04', '2024-07-04'])]),
    sql: byStatus(`o.created_at::date = date '2024-07-04'`),
  },

  { name: 'in with a null value also matches nulls', ctx: 'tenant5', query: q([f('Orders.notes', 'in', ['Leave at the door', null])]), sql: byStatus(`o.notes IS NULL OR o.notes = 'Leave at the door'`) },
  { name: 'notEquals on a boolean dimension', ctx: 'user42', query: q([f('Orders.isShipped', 'notEquals', [true])]), sql: byStatus(`o.shipped_at IS NULL`) },
  { name: 'gt on a time dimension takes an instant', ctx: 'dev', query: q([f('Orders.createdAt', 'gt', ['2025-12-31T12:00:00'])]), sql: byStatus(`o.created_at > '2025-12-31T12:00:00Z'`) },
  { name: 'equals on a case dimension label', ctx: 'tenant2', query: q([f('Orders.sizeBucket', 'equals', ['large'])]), sql: byStatus(`o.amount >= 500`) },
  { name: 'notEquals on a case dimension label', ctx: 'tenant3', query: q([f('Orders.sizeBucket', 'notEquals', ['medium'])]), sql: byStatus(`NOT (o.amount >= 100 AND o.amount < 500)`) },
  { name: 'startsWith treats an underscore literally', ctx: 'dev', query: q([f('Products.name', 'startsWith', ['under_'])]), sql: byStatus(`left(p.name, 6) = 'under_'`) },

  // measure filters → HAVING
  {
    name: 'a measure filter keeps users with more than 30 orders',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], filters: [f('Orders.count', 'gt', [30])] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders GROUP BY user_id HAVING count(*) > 30`,
  },
  {
    name: 'a measure filter on an avg',
    ctx: 'tenant5',
    query: { measures: ['Orders.avgAmount'], dimensions: ['Orders.userId'], filters: [f('Orders.avgAmount', 'lt', [1100])] },
    sql: `SELECT user_id AS "Orders.userId", avg(amount) AS "Orders.avgAmount" FROM orders GROUP BY user_id HAVING avg(amount) < 1100`,
  },
  {
    name: 'a measure filter on a countDistinct',
    ctx: 'dev',
    query: { measures: ['Orders.uniqueUsers'], dimensions: ['Orders.productId'], filters: [f('Orders.uniqueUsers', 'gte', [470])] },
    sql: `SELECT product_id AS "Orders.productId", count(DISTINCT user_id) AS "Orders.uniqueUsers" FROM orders GROUP BY 1 HAVING count(DISTINCT user_id) >= 470`,
  },
  {
    name: 'a measure filter on a measure that is not selected',
    ctx: 'tenant3',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], filters: [f('Orders.totalAmount', 'gte', [9000])] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders GROUP BY user_id HAVING sum(amount) >= 9000`,
  },
  {
    name: 'a measure filter together with a dimension filter',
    ctx: 'tenant1',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Orders.userId'], filters: [f('Orders.status', 'equals', ['completed']), f('Orders.totalAmount', 'gt', [6000])] },
    sql: `SELECT user_id AS "Orders.userId", sum(amount) AS "Orders.totalAmount" FROM orders WHERE status = 'completed' GROUP BY user_id HAVING sum(amount) > 6000`,
  },
  {
    name: 'a measure filter on a number measure',
    ctx: 'tenant4',
    query: { measures: ['Orders.completedRatio'], dimensions: ['Orders.userId'], filters: [f('Orders.completedRatio', 'gt', [60])] },
    sql: `SELECT user_id AS "Orders.userId", 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) AS "Orders.completedRatio" FROM orders GROUP BY user_id
          HAVING 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) > 60`,
  },
  {
    name: 'an or group of measure filters',
    ctx: 'tenant2',
    query: { measures: ['Orders.count', 'Orders.maxAmount'], dimensions: ['Orders.userId'], filters: [{ or: [f('Orders.count', 'lt', [14]), f('Orders.maxAmount', 'gt', [4000])] }] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count", max(amount) AS "Orders.maxAmount" FROM orders GROUP BY user_id HAVING count(*) < 14 OR max(amount) > 4000`,
  },
  {
    name: 'a measure filter with equals on a count',
    ctx: 'dev',
    query: { measures: ['Users.count'], dimensions: ['Users.city'], filters: [f('Users.count', 'equals', [100])] },
    sql: `SELECT city AS "Users.city", count(*) AS "Users.count" FROM users GROUP BY city HAVING count(*) = 100`,
    allowEmpty: true,
  },
  {
    name: 'a measure filter on a joined cube\'s measure',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Users.city'], filters: [f('Orders.count', 'gte', [2600])] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1 HAVING count(*) >= 2600`,
  },
];

/** Issue 12: a hidden member is refused in a filter exactly like an unknown one (Cube allows it). */
export const FILTER_ERROR_CASES: readonly ErrorCase[] = [
  { name: 'a filter on a hidden primary key is refused like an unknown member', ctx: 'tenant1', query: q([f('Orders.id', 'lt', [400])]), status: 400, message: /^Unknown member: Orders\.id$/ },
  { name: 'a filter on a hidden primary key two joins away is refused like an unknown member', ctx: 'dev', query: q([f('Tenants.id', 'equals', [4])]), status: 400, message: /^Unknown member: Tenants\.id$/ },
];
