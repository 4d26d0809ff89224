/**
 * Joins (belongsTo, hasMany, hasOne, multi-hop), fan-out cases where a naive join would
 * double count, and security contexts through joins. Fan-out expectations aggregate each
 * cube over its own distinct rows (lateral DISTINCT, EXISTS, or per-cube subqueries).
 */
import type { ConformanceCase, ErrorCase } from '../harness.js';
import { bucket } from '../harness.js';

const f = (member: string, operator: string, values?: unknown[]) => (values ? { member, operator, values } : { member, operator });

export const JOIN_CASES: readonly ConformanceCase[] = [
  {
    name: 'belongsTo: orders per user city',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Users.city'] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    name: 'belongsTo: revenue per product category for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Products.category'] },
    sql: `SELECT p.category AS "Products.category", sum(o.amount) AS "Orders.totalAmount" FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1`,
  },
  {
    name: 'hasMany: order item measures per order status',
    ctx: 'tenant3',
    query: { measures: ['OrderItems.count', 'OrderItems.revenue'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(i.id) AS "OrderItems.count", sum(i.quantity * i.price) AS "OrderItems.revenue"
          FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1`,
  },
  {
    name: 'hasOne: users per profile tier keeps users without a profile',
    ctx: 'tenant1',
    query: { measures: ['Users.count'], dimensions: ['UserProfiles.tier'] },
    sql: `SELECT up.tier AS "UserProfiles.tier", count(*) AS "Users.count" FROM users u LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'hasOne: profiles per user city counts zero where no profile exists',
    ctx: 'dev',
    query: { measures: ['UserProfiles.count'], dimensions: ['Users.city'] },
    sql: `SELECT u.city AS "Users.city", count(up.user_id) AS "UserProfiles.count" FROM users u LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'multi-hop: orders per tenant name with no claims',
    ctx: 'dev',
    query: { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Tenants.name'] },
    sql: `SELECT t.name AS "Tenants.name", count(*) AS "Orders.count", sum(o.amount) AS "Orders.totalAmount"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    name: 'multi-hop: orders per tenant plan for a tenant array',
    ctx: 'tenants13',
    query: { measures: ['Orders.count'], dimensions: ['Tenants.plan'] },
    sql: `SELECT t.plan AS "Tenants.plan", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    name: 'multi-hop: orders per profile tier through users',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['UserProfiles.tier'] },
    sql: `SELECT up.tier AS "UserProfiles.tier", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'two belongsTo joins at once',
    ctx: 'tenant5',
    query: { measures: ['Orders.count'], dimensions: ['Users.city', 'Products.category'] },
    sql: `SELECT u.city AS "Users.city", p.category AS "Products.category", count(*) AS "Orders.count"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN products p ON p.id = o.product_id GROUP BY 1, 2`,
  },
  {
    name: 'users per tenant plan',
    ctx: 'dev',
    query: { measures: ['Users.count'], dimensions: ['Tenants.plan'] },
    sql: `SELECT t.plan AS "Tenants.plan", count(*) AS "Users.count" FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    name: 'a filter on a cube two hops away',
    ctx: 'dev',
    query: { measures: ['Orders.count'], dimensions: ['Users.city'], filters: [f('Tenants.plan', 'equals', ['pro'])] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Orders.count" FROM orders o JOIN users u ON u.id = o.user_id JOIN tenants t ON t.id = u.tenant_id WHERE t.plan = 'pro' GROUP BY 1`,
  },
  {
    name: 'orders per status with the user name for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status', 'Users.name'] },
    sql: `SELECT o.status AS "Orders.status", u.name AS "Users.name", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1, 2`,
  },
  {
    name: 'order count and unique users per user tenant id for a user array',
    ctx: 'users424344',
    query: { measures: ['Orders.count', 'Orders.uniqueUsers'], dimensions: ['Users.tenantId'] },
    sql: `SELECT u.tenant_id AS "Users.tenantId", count(*) AS "Orders.count", count(DISTINCT o.user_id) AS "Orders.uniqueUsers" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    name: 'hasOne: users and profiles per opt-in flag',
    ctx: 'tenant4',
    query: { measures: ['Users.count', 'UserProfiles.count'], dimensions: ['UserProfiles.marketingOptIn'] },
    sql: `SELECT up.marketing_opt_in AS "UserProfiles.marketingOptIn", count(*) AS "Users.count", count(up.user_id) AS "UserProfiles.count"
          FROM users u LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'a dimension-only query across a join lists distinct pairs',
    ctx: 'user7',
    query: { dimensions: ['Products.category', 'Orders.status'] },
    sql: `SELECT DISTINCT p.category AS "Products.category", o.status AS "Orders.status" FROM orders o LEFT JOIN products p ON p.id = o.product_id ORDER BY 1, 2`,
    ordered: false,
  },
  {
    name: 'the snake_case join target referenced by a segment and a joined dimension',
    ctx: 'tenant3',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Tenants.name', 'Users.city'], segments: ['Orders.completed'] },
    sql: `SELECT t.name AS "Tenants.name", u.city AS "Users.city", sum(o.amount) AS "Orders.totalAmount"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id WHERE o.status = 'completed' GROUP BY 1, 2`,
  },
];

export const FAN_OUT_CASES: readonly ConformanceCase[] = [
  {
    name: 'fan-out: sum of order amounts per item product counts each order once',
    ctx: 'dev',
    query: { measures: ['Orders.totalAmount'], dimensions: ['OrderItems.productId'] },
    sql: `SELECT k.product_id AS "OrderItems.productId", sum(o.amount) AS "Orders.totalAmount"
          FROM orders o LEFT JOIN LATERAL (SELECT DISTINCT i.product_id FROM order_items i WHERE i.order_id = o.id) k ON true GROUP BY 1`,
  },
  {
    name: 'fan-out: order count per item product',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['OrderItems.productId'] },
    sql: `SELECT i.product_id AS "OrderItems.productId", count(DISTINCT o.id) AS "Orders.count" FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1`,
  },
  {
    name: 'fan-out: order total and item revenue side by side per status',
    ctx: 'tenant2',
    query: { measures: ['Orders.totalAmount', 'OrderItems.revenue'], dimensions: ['Orders.status'] },
    sql: `SELECT a.status AS "Orders.status", a.total AS "Orders.totalAmount", b.revenue AS "OrderItems.revenue"
          FROM (SELECT status, sum(amount) AS total FROM orders GROUP BY 1) a
          JOIN (SELECT o.status, sum(i.quantity * i.price) AS revenue FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1) b ON b.status = a.status`,
  },
  {
    name: 'fan-out: avg order amount per item quantity',
    ctx: 'tenant3',
    query: { measures: ['Orders.avgAmount'], dimensions: ['OrderItems.quantity'] },
    sql: `SELECT q AS "OrderItems.quantity", avg(amount) AS "Orders.avgAmount"
          FROM (SELECT DISTINCT o.id, o.amount, i.quantity AS q FROM orders o LEFT JOIN order_items i ON i.order_id = o.id) x GROUP BY q`,
  },
  {
    name: 'fan-out: min, max and count per item product for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.minAmount', 'Orders.maxAmount', 'Orders.count'], dimensions: ['OrderItems.productId'] },
    sql: `SELECT i.product_id AS "OrderItems.productId", min(o.amount) AS "Orders.minAmount", max(o.amount) AS "Orders.maxAmount", count(DISTINCT o.id) AS "Orders.count"
          FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1`,
  },
  {
    name: 'fan-out: a number measure of filtered counts per item quantity',
    ctx: 'dev',
    query: { measures: ['Orders.completedRatio', 'Orders.completedCount'], dimensions: ['OrderItems.quantity'] },
    sql: `SELECT q AS "OrderItems.quantity", 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) AS "Orders.completedRatio",
                 count(*) FILTER (WHERE status = 'completed') AS "Orders.completedCount"
          FROM (SELECT DISTINCT o.id, o.status, i.quantity AS q FROM orders o LEFT JOIN order_items i ON i.order_id = o.id) x GROUP BY q`,
  },
  {
    name: 'fan-out: totals without dimensions next to an item count',
    ctx: 'tenant1',
    query: { measures: ['Orders.totalQuantity', 'Orders.totalAmount', 'OrderItems.count'] },
    sql: `SELECT (SELECT sum(quantity) FROM orders) AS "Orders.totalQuantity", (SELECT sum(amount) FROM orders) AS "Orders.totalAmount", (SELECT count(*) FROM order_items) AS "OrderItems.count"`,
  },
  {
    name: 'fan-out: countDistinct per item product',
    ctx: 'tenant4',
    query: { measures: ['Orders.uniqueUsers'], dimensions: ['OrderItems.productId'] },
    sql: `SELECT i.product_id AS "OrderItems.productId", count(DISTINCT o.user_id) AS "Orders.uniqueUsers" FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY 1`,
  },
  {
    name: 'fan-out: a filter on the many side counts each matching order once',
    ctx: 'tenant5',
    query: { measures: ['Orders.totalAmount', 'Orders.count'], dimensions: ['Orders.status'], filters: [f('OrderItems.quantity', 'gte', [3])] },
    sql: `SELECT status AS "Orders.status", sum(amount) AS "Orders.totalAmount", count(*) AS "Orders.count" FROM orders o
          WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.quantity >= 3) GROUP BY 1`,
  },
  {
    name: 'fan-in: users per order status counts each user once',
    ctx: 'tenant2',
    query: { measures: ['Users.count'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT u.id) AS "Users.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    name: 'fan-in: users and orders per status for user 42',
    ctx: 'user42',
    query: { measures: ['Users.count', 'Orders.count'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT u.id) AS "Users.count", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1`,
  },
  {
    name: 'fan-in: users per order year',
    ctx: 'tenant4',
    query: { measures: ['Users.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }] },
    sql: `SELECT ${bucket('year', 'o.created_at')} AS "Orders.createdAt.year", count(DISTINCT u.id) AS "Users.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'fan-in two hops: profiles per order status',
    ctx: 'tenant3',
    query: { measures: ['UserProfiles.count'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT up.user_id) AS "UserProfiles.count"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'fan-in two hops: a percent number measure of profiles per order status',
    ctx: 'dev',
    query: { measures: ['UserProfiles.marketingOptInRate'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", 100.0 * count(*) FILTER (WHERE marketing_opt_in) / count(*) AS "UserProfiles.marketingOptInRate"
          FROM (SELECT DISTINCT o.status, up.user_id, up.marketing_opt_in FROM orders o JOIN users u ON u.id = o.user_id JOIN user_profiles up ON up.user_id = u.id) x GROUP BY 1`,
  },
  {
    name: 'fan-in: avg product price per order status averages each product once',
    ctx: 'dev',
    query: { measures: ['Products.avgPrice'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", avg(price) AS "Products.avgPrice"
          FROM (SELECT DISTINCT o.status, p.id, p.price FROM orders o JOIN products p ON p.id = o.product_id) x GROUP BY 1`,
  },
  {
    name: 'fan-in two hops: tenants per order status for a tenant array',
    ctx: 'tenants13',
    query: { measures: ['Tenants.count'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT t.id) AS "Tenants.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    name: 'fan-out with a measure filter on the multiplied cube',
    ctx: 'tenant2',
    query: { measures: ['Orders.totalAmount', 'OrderItems.count'], dimensions: ['OrderItems.productId'], filters: [f('Orders.totalAmount', 'gt', [600000])] },
    sql: `SELECT a.pid AS "OrderItems.productId", a.total AS "Orders.totalAmount", b.n AS "OrderItems.count"
          FROM (SELECT k.pid, sum(o.amount) AS total FROM orders o JOIN LATERAL (SELECT DISTINCT product_id AS pid FROM order_items i WHERE i.order_id = o.id) k ON true GROUP BY 1) a
          JOIN (SELECT product_id AS pid, count(*) AS n FROM order_items GROUP BY 1) b ON b.pid = a.pid
          WHERE a.total > 600000`,
  },
  {
    name: 'fan-out: a filter on item price with a belongsTo dimension',
    ctx: 'tenant1',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Users.city'], filters: [f('OrderItems.price', 'gt', [400])] },
    sql: `SELECT u.city AS "Users.city", sum(o.amount) AS "Orders.totalAmount" FROM orders o LEFT JOIN users u ON u.id = o.user_id
          WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.price > 400) GROUP BY 1`,
  },
  {
    name: 'fan-out and fan-in at once: amounts, products and items per tenant id',
    ctx: 'dev',
    query: { measures: ['Orders.totalAmount', 'Products.count', 'OrderItems.count'], dimensions: ['Users.tenantId'] },
    sql: `SELECT a.tid AS "Users.tenantId", a.total AS "Orders.totalAmount", b.pc AS "Products.count", c.ic AS "OrderItems.count"
          FROM (SELECT u.tenant_id AS tid, sum(o.amount) AS total FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1) a
          JOIN (SELECT u.tenant_id AS tid, count(DISTINCT p.id) AS pc FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN products p ON p.id = o.product_id GROUP BY 1) b ON b.tid = a.tid
          JOIN (SELECT u.tenant_id AS tid, count(*) AS ic FROM order_items i JOIN orders o ON o.id = i.order_id LEFT JOIN users u ON u.id = o.user_id GROUP BY 1) c ON c.tid = a.tid`,
  },
  {
    name: 'fan-out: avg order amount and item revenue per product category',
    ctx: 'tenant2',
    query: { measures: ['Orders.avgAmount', 'OrderItems.revenue'], dimensions: ['Products.category'] },
    sql: `SELECT a.cat AS "Products.category", a.av AS "Orders.avgAmount", b.rev AS "OrderItems.revenue"
          FROM (SELECT p.category AS cat, avg(o.amount) AS av FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1) a
          JOIN (SELECT p.category AS cat, sum(i.quantity * i.price) AS rev FROM orders o LEFT JOIN products p ON p.id = o.product_id JOIN order_items i ON i.order_id = o.id GROUP BY 1) b ON b.cat = a.cat`,
  },
  {
    name: 'fan-out with order and limit for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.totalAmount'], dimensions: ['OrderItems.productId'], order: [['Orders.totalAmount', 'desc'], ['OrderItems.productId', 'asc']], limit: 5 },
    sql: `SELECT pid AS "OrderItems.productId", sum(amount) AS "Orders.totalAmount" FROM (SELECT DISTINCT o.id, o.amount, i.product_id AS pid FROM orders o JOIN order_items i ON i.order_id = o.id) x
          GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT 5`,
    ordered: true,
  },
  {
    name: 'fan-out: order total and item revenue per year',
    ctx: 'tenant3',
    query: { measures: ['Orders.totalAmount', 'OrderItems.revenue'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year' }] },
    sql: `SELECT a.y AS "Orders.createdAt.year", a.total AS "Orders.totalAmount", b.rev AS "OrderItems.revenue"
          FROM (SELECT ${bucket('year', 'created_at')} AS y, sum(amount) AS total FROM orders GROUP BY 1) a
          JOIN (SELECT ${bucket('year', 'o.created_at')} AS y, sum(i.quantity * i.price) AS rev FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY 1) b ON b.y = a.y
          ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'fan-in: users, profiles and orders per profile tier',
    ctx: 'tenant2',
    query: { measures: ['Users.count', 'UserProfiles.count', 'Orders.count'], dimensions: ['UserProfiles.tier'] },
    sql: `SELECT up.tier AS "UserProfiles.tier", count(DISTINCT u.id) AS "Users.count", count(DISTINCT up.user_id) AS "UserProfiles.count", count(*) AS "Orders.count"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN user_profiles up ON up.user_id = u.id GROUP BY 1`,
  },
  {
    name: 'fan-in with a measure filter on distinct users',
    ctx: 'dev',
    query: { measures: ['Users.count'], dimensions: ['Orders.quantity'], filters: [f('Users.count', 'lt', [1000])] },
    sql: `SELECT o.quantity AS "Orders.quantity", count(DISTINCT u.id) AS "Users.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1 HAVING count(DISTINCT u.id) < 1000`,
  },
  {
    name: 'fan-in: the shared product catalogue joined to user 42 shows only their products',
    ctx: 'user42',
    query: { measures: ['Products.count'], dimensions: ['Orders.status'] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT p.id) AS "Products.count" FROM orders o LEFT JOIN products p ON p.id = o.product_id GROUP BY 1`,
  },
  {
    name: 'fan-out with a dimension filter, order and limit',
    ctx: 'tenant3',
    query: { measures: ['Orders.totalAmount'], dimensions: ['OrderItems.productId'], filters: [f('Orders.status', 'equals', ['completed'])], order: { 'OrderItems.productId': 'asc' }, limit: 10 },
    sql: `SELECT k.pid AS "OrderItems.productId", sum(o.amount) AS "Orders.totalAmount" FROM orders o
          JOIN LATERAL (SELECT DISTINCT product_id AS pid FROM order_items i WHERE i.order_id = o.id) k ON true WHERE o.status = 'completed' GROUP BY 1 ORDER BY 1 LIMIT 10`,
    ordered: true,
  },
  {
    name: 'fan-out: max amount per item quantity within a segment',
    ctx: 'tenant1',
    query: { measures: ['Orders.maxAmount', 'Orders.avgAmount'], dimensions: ['OrderItems.quantity'], segments: ['Orders.highValue'] },
    sql: `SELECT q AS "OrderItems.quantity", max(amount) AS "Orders.maxAmount", avg(amount) AS "Orders.avgAmount"
          FROM (SELECT DISTINCT o.id, o.amount, i.quantity AS q FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.amount > 500) x GROUP BY 1`,
  },
  {
    name: 'fan-out: dimensions from both sides of a hasMany',
    ctx: 'user47tenant2',
    query: { measures: ['Orders.totalAmount', 'Orders.totalQuantity'], dimensions: ['Orders.status', 'OrderItems.productId'] },
    sql: `SELECT status AS "Orders.status", pid AS "OrderItems.productId", sum(amount) AS "Orders.totalAmount", sum(quantity) AS "Orders.totalQuantity"
          FROM (SELECT DISTINCT o.id, o.status, o.amount, o.quantity, i.product_id AS pid FROM orders o JOIN order_items i ON i.order_id = o.id) x GROUP BY 1, 2`,
  },
  {
    name: 'fan-out: a measure filter on the many side\'s count',
    ctx: 'tenant2',
    query: { measures: ['Orders.avgAmount'], dimensions: ['Orders.status'], filters: [f('OrderItems.count', 'gt', [10000])] },
    sql: `SELECT a.status AS "Orders.status", a.av AS "Orders.avgAmount"
          FROM (SELECT status, avg(amount) AS av FROM orders GROUP BY 1) a
          JOIN (SELECT o.status, count(*) AS n FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY 1) b ON b.status = a.status WHERE b.n > 10000`,
  },
  {
    name: 'fan-out: a filter on an item product with a profile dimension',
    ctx: 'tenant4',
    query: { measures: ['Orders.totalAmount', 'Users.count'], dimensions: ['UserProfiles.tier'], filters: [f('OrderItems.productId', 'in', [1, 2, 3, 4, 5])] },
    sql: `SELECT up.tier AS "UserProfiles.tier", sum(o.amount) AS "Orders.totalAmount", count(DISTINCT u.id) AS "Users.count"
          FROM orders o LEFT JOIN users u ON u.id = o.user_id LEFT JOIN user_profiles up ON up.user_id = u.id
          WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.product_id IN (1, 2, 3, 4, 5)) GROUP BY 1`,
  },
  {
    name: 'fan-out: a measure filter on a count of the multiplied cube counts distinct orders',
    ctx: 'tenant3',
    query: { measures: ['Orders.count'], dimensions: ['OrderItems.productId'], filters: [f('Orders.count', 'gt', [320])] },
    sql: `SELECT i.product_id AS "OrderItems.productId", count(DISTINCT o.id) AS "Orders.count" FROM orders o JOIN order_items i ON i.order_id = o.id
          GROUP BY 1 HAVING count(DISTINCT o.id) > 320`,
  },
  {
    name: 'fan-in: a measure filter on the shared product count per order status',
    ctx: 'dev',
    query: { measures: ['Products.count'], dimensions: ['Orders.status'], filters: [f('Products.count', 'lte', [200])] },
    sql: `SELECT o.status AS "Orders.status", count(DISTINCT p.id) AS "Products.count" FROM orders o JOIN products p ON p.id = o.product_id GROUP BY 1 HAVING count(DISTINCT p.id) <= 200`,
  },
  {
    name: 'fan-out: total counts the keyed groups, with offset',
    ctx: 'tenant2',
    query: { measures: ['Orders.totalAmount'], dimensions: ['OrderItems.productId'], order: { 'OrderItems.productId': 'asc' }, limit: 4, offset: 3, total: true },
    sql: `SELECT pid AS "OrderItems.productId", sum(amount) AS "Orders.totalAmount" FROM (SELECT DISTINCT o.id, o.amount, i.product_id AS pid FROM orders o JOIN order_items i ON i.order_id = o.id) x
          GROUP BY 1 ORDER BY 1 LIMIT 4 OFFSET 3`,
    ordered: true,
    totalSql: `SELECT count(DISTINCT i.product_id) AS n FROM order_items i`,
  },
  {
    name: 'fan-in: users with a segment of their orders',
    ctx: 'tenant4',
    query: { measures: ['Users.count'], dimensions: ['Users.city'], segments: ['Orders.highValue'] },
    sql: `SELECT city AS "Users.city", count(*) AS "Users.count" FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 500) GROUP BY 1`,
  },
  {
    name: 'fan-in: users filtered by their profile bio through hasOne',
    ctx: 'tenant3',
    query: { measures: ['Users.count', 'UserProfiles.count'], dimensions: ['Users.city'], filters: [f('UserProfiles.bio', 'set')] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Users.count", count(*) AS "UserProfiles.count" FROM users u JOIN user_profiles up ON up.user_id = u.id WHERE up.bio IS NOT NULL GROUP BY 1`,
  },
  {
    name: 'fan-out: a measure filter on a number measure of the multiplied cube',
    ctx: 'tenant1',
    query: { measures: ['Orders.completedRatio'], dimensions: ['OrderItems.quantity'], filters: [f('Orders.completedRatio', 'gt', [54.25])] },
    sql: `SELECT q AS "OrderItems.quantity", 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) AS "Orders.completedRatio"
          FROM (SELECT DISTINCT o.id, o.status, i.quantity AS q FROM orders o JOIN order_items i ON i.order_id = o.id) x GROUP BY 1
          HAVING 100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) > 54.25`,
  },
  {
    name: 'fan-out: a measure filter on an avg of the multiplied cube',
    ctx: 'tenant5',
    query: { measures: ['Orders.avgAmount', 'OrderItems.count'], dimensions: ['OrderItems.productId'], filters: [f('Orders.avgAmount', 'gt', [1350])] },
    sql: `SELECT a.pid AS "OrderItems.productId", a.av AS "Orders.avgAmount", b.n AS "OrderItems.count"
          FROM (SELECT pid, avg(amount) AS av FROM (SELECT DISTINCT o.id, o.amount, i.product_id AS pid FROM orders o JOIN order_items i ON i.order_id = o.id) x GROUP BY 1) a
          JOIN (SELECT product_id AS pid, count(*) AS n FROM order_items GROUP BY 1) b ON b.pid = a.pid WHERE a.av > 1350`,
  },
  {
    name: 'fan-out: a dimension-only query across a hasMany lists distinct pairs',
    ctx: 'user42',
    query: { dimensions: ['Orders.status', 'OrderItems.productId'] },
    sql: `SELECT DISTINCT o.status AS "Orders.status", i.product_id AS "OrderItems.productId" FROM orders o JOIN order_items i ON i.order_id = o.id`,
  },
  {
    name: 'fan-in: tenants and users per tenant plan',
    ctx: 'tenants13',
    query: { measures: ['Tenants.count', 'Users.count'], dimensions: ['Tenants.plan'] },
    sql: `SELECT t.plan AS "Tenants.plan", count(DISTINCT t.id) AS "Tenants.count", count(*) AS "Users.count" FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id GROUP BY 1`,
  },
  {
    name: 'measureFilter on a joined cube\'s filtered count',
    ctx: 'tenant2',
    query: { measures: ['Users.count'], dimensions: ['Users.city'], filters: [f('UserProfiles.marketingOptInCount', 'measureFilter')] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Users.count" FROM users u JOIN user_profiles up ON up.user_id = u.id WHERE up.marketing_opt_in GROUP BY 1`,
  },
  {
    name: 'notSet on a hasOne dimension finds users without a profile',
    ctx: 'tenant5',
    query: { measures: ['Users.count'], dimensions: ['Users.city'], filters: [f('UserProfiles.tier', 'notSet')] },
    sql: `SELECT city AS "Users.city", count(*) AS "Users.count" FROM users u WHERE NOT EXISTS (SELECT 1 FROM user_profiles up WHERE up.user_id = u.id AND up.tier IS NOT NULL) GROUP BY 1`,
  },
  {
    name: 'fan-out: notEquals on the many side keeps orders with any other item',
    ctx: 'tenant3',
    query: { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.status'], filters: [f('OrderItems.productId', 'notEquals', [5])] },
    sql: `SELECT status AS "Orders.status", count(*) AS "Orders.count", sum(amount) AS "Orders.totalAmount" FROM orders o
          WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.product_id <> 5) GROUP BY 1`,
  },
];

export const SECURITY_CASES: readonly ConformanceCase[] = [
  {
    name: 'user 42 grouped by user id sees only user 42',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id = 42 GROUP BY 1`,
  },
  {
    name: 'a user array grouped by user id sees exactly those users',
    ctx: 'users424344',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id IN (42, 43, 44) GROUP BY 1`,
  },
  {
    name: 'tenant 3 grouped by tenant id sees only tenant 3',
    ctx: 'tenant3',
    query: { measures: ['Users.count'], dimensions: ['Users.tenantId'] },
    sql: `SELECT tenant_id AS "Users.tenantId", count(*) AS "Users.count" FROM tessera_demo.users WHERE tenant_id = 3 GROUP BY 1`,
  },
  {
    name: 'a tenant array lists exactly its tenants',
    ctx: 'tenants13',
    query: { dimensions: ['Tenants.name'] },
    sql: `SELECT name AS "Tenants.name" FROM tessera_demo.tenants WHERE id IN (1, 3) ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'the unfiltered product catalogue on its own is shared',
    ctx: 'user42',
    query: { measures: ['Products.count'] },
    sql: `SELECT count(*) AS "Products.count" FROM tessera_demo.products`,
  },
  {
    name: 'a user outside the claimed tenant sees no users',
    ctx: 'user42tenant3',
    query: { measures: ['Users.count'] },
    sql: `SELECT 0 AS "Users.count"`,
  },
  {
    name: 'orders per tenant name for a user of tenant 2',
    ctx: 'user47tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Tenants.name'] },
    sql: `SELECT 'Globex' AS "Tenants.name", count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id = 47`,
  },
  {
    name: 'order items of a top-level id claim',
    ctx: 'user7',
    query: { measures: ['OrderItems.count', 'OrderItems.totalQuantity'] },
    sql: `SELECT count(*) AS "OrderItems.count", sum(i.quantity) AS "OrderItems.totalQuantity" FROM tessera_demo.order_items i JOIN tessera_demo.orders o ON o.id = i.order_id WHERE o.user_id = 7`,
  },
  {
    name: 'an empty tenant array sees no profile groups',
    ctx: 'noTenant',
    query: { measures: ['UserProfiles.count'], dimensions: ['UserProfiles.tier'] },
    sql: `SELECT tier AS "UserProfiles.tier", count(*) AS "UserProfiles.count" FROM user_profiles GROUP BY 1`,
    allowEmpty: true,
  },
  {
    name: 'emails grouped for tenant 5 are all of tenant 5',
    ctx: 'tenant5',
    query: { measures: ['Orders.count'], dimensions: ['Users.email'] },
    sql: `SELECT u.email AS "Users.email", count(*) AS "Orders.count" FROM tessera_demo.orders o JOIN tessera_demo.users u ON u.id = o.user_id WHERE o.tenant_id = 5 GROUP BY 1`,
  },
  {
    name: 'a filter for another user cannot widen the context',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], filters: [f('Orders.userId', 'equals', [43])] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM orders WHERE user_id = 43 GROUP BY 1`,
    allowEmpty: true,
  },
  {
    name: 'an or filter cannot widen the context',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.userId'], filters: [{ or: [f('Orders.userId', 'equals', [43]), f('Orders.status', 'equals', ['completed'])] }] },
    sql: `SELECT user_id AS "Orders.userId", count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id = 42 AND status = 'completed' GROUP BY 1`,
  },
  {
    name: 'products filtered through orders of user 42 are only theirs',
    ctx: 'user42',
    query: { dimensions: ['Products.name'], filters: [f('Orders.status', 'set')] },
    sql: `SELECT DISTINCT p.name AS "Products.name" FROM tessera_demo.products p WHERE p.id IN (SELECT product_id FROM tessera_demo.orders WHERE user_id = 42) ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a string tenant claim binds as a value',
    ctx: 'tenant2text',
    query: { measures: ['Orders.count', 'Users.count'], dimensions: ['Users.tenantId'] },
    sql: `SELECT u.tenant_id AS "Users.tenantId", count(*) AS "Orders.count", count(DISTINCT u.id) AS "Users.count" FROM tessera_demo.orders o JOIN tessera_demo.users u ON u.id = o.user_id WHERE o.tenant_id = 2 GROUP BY 1`,
  },
];

export const ERROR_CASES: readonly ErrorCase[] = [
  // Issue 12: Tenants' only row filter reads tenant_id, which user 42's token lacks, so it is refused, not matched to all.
  {
    name: 'joining tenants with a token that has none of their filter claims is refused, naming the cube',
    ctx: 'user42',
    query: { measures: ['Tenants.count', 'Orders.count'], dimensions: ['Tenants.name'] },
    status: 403,
    message: /^Access denied: cube Tenants filters its rows by the security context claims tenant_id/,
  },
  { name: 'a query with no join path names the cubes', ctx: 'dev', query: { measures: ['OrderItems.count'], dimensions: ['Products.category'] }, status: 400, message: /OrderItems.*Products|Products.*OrderItems/ },
  { name: 'users and products have no common root', ctx: 'tenant2', query: { measures: ['Users.count'], dimensions: ['Products.category'] }, status: 400, message: /Users.*Products|Products.*Users/ },
  {
    name: 'an unparsable relative date range is a 400 that names it',
    ctx: 'dev',
    query: { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', dateRange: 'last fortnight or so' }] },
    status: 400,
    message: /last fortnight or so/,
  },
  {
    name: 'an unparsable relative filter value is a 400 that names it',
    ctx: 'dev',
    query: { measures: ['Orders.count'], filters: [{ member: 'Orders.createdAt', operator: 'inDateRange', values: ['sometime soonish'] }] },
    status: 400,
    message: /sometime soonish/,
  },
  {
    name: 'a compareDateRange query needs the multi envelope',
    ctx: 'dev',
    query: { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', compareDateRange: [['2024-01-01', '2024-01-31'], ['2025-01-01', '2025-01-31']] }] },
    status: 400,
    message: /compareDateRangeQuery/,
  },
  {
    name: 'a blending query without a granularity is refused',
    ctx: 'dev',
    multi: true,
    query: [{ measures: ['Orders.count'] }, { measures: ['Users.count'] }],
    status: 400,
    message: /granularity/,
  },
];
