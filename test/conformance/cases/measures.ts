/**
 * Every measure type, every dimension type and segments, under several security contexts.
 */
import { fmt, local, type ConformanceCase } from '../harness.js';

export const MEASURE_CASES: readonly ConformanceCase[] = [
  // count under every kind of context
  { name: 'count with no claims sees every order', ctx: 'dev', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders` },
  { name: 'count for user 42 (legacy u claim) sees only their orders', ctx: 'user42', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id = 42` },
  { name: 'count for a top-level id claim sees only that user', ctx: 'user7', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id = 7` },
  { name: 'count for tenant 3 sees only the tenant', ctx: 'tenant3', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE tenant_id = 3` },
  { name: 'count for user 47 of tenant 2 applies both claims', ctx: 'user47tenant2', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE tenant_id = 2 AND user_id = 47` },
  { name: 'count for an array tenant claim covers both tenants', ctx: 'tenants13', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE tenant_id IN (1, 3)` },
  { name: 'count for an array user claim covers the three users', ctx: 'users424344', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE user_id IN (42, 43, 44)` },
  { name: 'count for a user outside the claimed tenant is zero', ctx: 'user42tenant3', query: { measures: ['Orders.count'] }, sql: `SELECT count(*) AS "Orders.count" FROM tessera_demo.orders WHERE false` },
  { name: 'count for an empty tenant array is zero', ctx: 'noTenant', query: { measures: ['Orders.count'] }, sql: `SELECT 0 AS "Orders.count"` },

  // each aggregate type
  {
    name: 'countDistinct counts distinct users per status',
    ctx: 'tenant3',
    query: { measures: ['Orders.uniqueUsers'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", count(DISTINCT user_id) AS "Orders.uniqueUsers" FROM orders GROUP BY status`,
  },
  {
    name: 'sum of amounts per status',
    ctx: 'dev',
    query: { measures: ['Orders.totalAmount'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", sum(amount) AS "Orders.totalAmount" FROM orders GROUP BY status`,
  },
  {
    name: 'avg of amounts per status',
    ctx: 'tenant2',
    query: { measures: ['Orders.avgAmount'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", sum(amount) / count(amount) AS "Orders.avgAmount" FROM orders GROUP BY status`,
  },
  {
    name: 'min and max of amounts per status',
    ctx: 'user42',
    query: { measures: ['Orders.minAmount', 'Orders.maxAmount'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", (SELECT o2.amount FROM orders o2 WHERE o2.status = o.status ORDER BY o2.amount ASC LIMIT 1) AS "Orders.minAmount",
            (SELECT o2.amount FROM orders o2 WHERE o2.status = o.status ORDER BY o2.amount DESC LIMIT 1) AS "Orders.maxAmount"
          FROM (SELECT DISTINCT status FROM orders) o`,
  },
  {
    name: 'a count measure with a filter counts only completed orders',
    ctx: 'dev',
    query: { measures: ['Orders.completedCount'], dimensions: ['Orders.quantity'] },
    sql: `SELECT quantity AS "Orders.quantity", sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS "Orders.completedCount" FROM orders GROUP BY quantity`,
  },
  {
    name: 'a number measure built from two counts',
    ctx: 'tenant1',
    query: { measures: ['Orders.completedRatio'], dimensions: ['Orders.quantity'] },
    sql: `SELECT quantity AS "Orders.quantity", 100.0 * sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) / count(*) AS "Orders.completedRatio" FROM orders GROUP BY quantity`,
  },
  {
    name: 'sum of quantities per status',
    ctx: 'tenant4',
    query: { measures: ['Orders.totalQuantity'], dimensions: ['Orders.status'] },
    sql: `SELECT status AS "Orders.status", sum(quantity) AS "Orders.totalQuantity" FROM orders GROUP BY status`,
  },
  {
    name: 'every Orders measure at once without dimensions',
    ctx: 'tenant2',
    query: {
      measures: ['Orders.count', 'Orders.totalAmount', 'Orders.avgAmount', 'Orders.minAmount', 'Orders.maxAmount', 'Orders.uniqueUsers', 'Orders.completedCount', 'Orders.completedRatio', 'Orders.totalQuantity'],
    },
    sql: `SELECT count(*) AS "Orders.count", sum(amount) AS "Orders.totalAmount", avg(amount) AS "Orders.avgAmount", min(amount) AS "Orders.minAmount",
            max(amount) AS "Orders.maxAmount", count(DISTINCT user_id) AS "Orders.uniqueUsers", count(*) FILTER (WHERE status = 'completed') AS "Orders.completedCount",
            100.0 * count(*) FILTER (WHERE status = 'completed') / count(*) AS "Orders.completedRatio", sum(quantity) AS "Orders.totalQuantity" FROM orders`,
  },
  {
    name: 'avg price of the shared product catalogue per category',
    ctx: 'user42',
    query: { measures: ['Products.avgPrice', 'Products.count'], dimensions: ['Products.category'] },
    sql: `SELECT category AS "Products.category", avg(price) AS "Products.avgPrice", count(*) AS "Products.count" FROM tessera_demo.products GROUP BY category`,
  },
  {
    name: 'filtered count and a percent number measure on profiles per tier',
    ctx: 'tenant2',
    query: { measures: ['UserProfiles.count', 'UserProfiles.marketingOptInCount', 'UserProfiles.marketingOptInRate'], dimensions: ['UserProfiles.tier'] },
    sql: `SELECT tier AS "UserProfiles.tier", count(*) AS "UserProfiles.count", count(*) FILTER (WHERE marketing_opt_in) AS "UserProfiles.marketingOptInCount",
            100.0 * count(*) FILTER (WHERE marketing_opt_in) / count(*) AS "UserProfiles.marketingOptInRate" FROM user_profiles GROUP BY tier`,
  },
  {
    name: 'order item count, quantity and revenue per product for user 42',
    ctx: 'user42',
    query: { measures: ['OrderItems.count', 'OrderItems.totalQuantity', 'OrderItems.revenue'], dimensions: ['OrderItems.productId'] },
    sql: `SELECT i.product_id AS "OrderItems.productId", count(*) AS "OrderItems.count", sum(i.quantity) AS "OrderItems.totalQuantity", sum(i.quantity * i.price) AS "OrderItems.revenue"
          FROM tessera_demo.order_items i WHERE i.order_id IN (SELECT id FROM tessera_demo.orders WHERE user_id = 42) GROUP BY i.product_id`,
  },
  {
    name: 'users per city in tenant 5',
    ctx: 'tenant5',
    query: { measures: ['Users.count'], dimensions: ['Users.city'] },
    sql: `SELECT city AS "Users.city", count(*) AS "Users.count" FROM tessera_demo.users WHERE tenant_id = 5 GROUP BY city`,
  },
  { name: 'tenants count with no claims is five', ctx: 'dev', query: { measures: ['Tenants.count'] }, sql: `SELECT count(*) AS "Tenants.count" FROM tessera_demo.tenants` },
  { name: 'tenants count for a tenant is one', ctx: 'tenant3', query: { measures: ['Tenants.count'] }, sql: `SELECT count(*) AS "Tenants.count" FROM tessera_demo.tenants WHERE id = 3` },
  {
    name: 'profiles count for a user without a tenant claim',
    ctx: 'users424344',
    query: { measures: ['UserProfiles.count'] },
    sql: `SELECT count(*) AS "UserProfiles.count" FROM tessera_demo.user_profiles WHERE user_id IN (42, 43, 44)`,
  },
];

export const DIMENSION_CASES: readonly ConformanceCase[] = [
  {
    name: 'a string dimension alone lists distinct values in ascending order',
    ctx: 'dev',
    query: { dimensions: ['Orders.status'] },
    sql: `SELECT DISTINCT status AS "Orders.status" FROM orders ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a number dimension groups counts',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.quantity'] },
    sql: `SELECT quantity AS "Orders.quantity", count(*) AS "Orders.count" FROM orders GROUP BY quantity`,
  },
  {
    name: 'a boolean dimension groups counts',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.isShipped'] },
    sql: `SELECT (shipped_at IS NOT NULL) AS "Orders.isShipped", count(*) AS "Orders.count" FROM orders GROUP BY 1`,
  },
  {
    name: 'a case dimension labels amount buckets',
    ctx: 'tenant3',
    query: { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.sizeBucket'] },
    sql: `SELECT b AS "Orders.sizeBucket", count(*) AS "Orders.count", sum(amount) AS "Orders.totalAmount"
          FROM (SELECT amount, CASE WHEN amount >= 500 THEN 'large' WHEN amount >= 100 THEN 'medium' ELSE 'small' END AS b FROM orders) x GROUP BY b`,
  },
  {
    name: 'a time dimension without granularity is formatted as local time',
    ctx: 'user42',
    query: { dimensions: ['Users.name', 'Users.createdAt'] },
    sql: `SELECT name AS "Users.name", ${fmt(local('created_at'))} AS "Users.createdAt" FROM users`,
  },
  {
    name: 'a time dimension without granularity in Asia/Tokyo',
    ctx: 'tenants13',
    query: { dimensions: ['Users.createdAt'], filters: [{ member: 'Users.city', operator: 'equals', values: ['Tokyo'] }], timezone: 'Asia/Tokyo' },
    sql: `SELECT DISTINCT ${fmt(local('created_at', 'Asia/Tokyo'))} AS "Users.createdAt" FROM users WHERE city = 'Tokyo'`,
  },
  {
    name: 'users per tenant id with no claims',
    ctx: 'dev',
    query: { measures: ['Users.count'], dimensions: ['Users.tenantId'] },
    sql: `SELECT tenant_id AS "Users.tenantId", count(*) AS "Users.count" FROM users GROUP BY tenant_id`,
  },
  {
    name: 'a boolean dimension of profiles',
    ctx: 'dev',
    query: { measures: ['UserProfiles.count'], dimensions: ['UserProfiles.marketingOptIn'] },
    sql: `SELECT marketing_opt_in AS "UserProfiles.marketingOptIn", count(*) AS "UserProfiles.count" FROM user_profiles GROUP BY 1`,
  },
  {
    name: 'a nullable string dimension keeps a null group',
    ctx: 'tenant1',
    query: { measures: ['UserProfiles.count'], dimensions: ['UserProfiles.bio'], filters: [{ member: 'UserProfiles.tier', operator: 'equals', values: ['pro'] }] },
    sql: `SELECT bio AS "UserProfiles.bio", count(*) AS "UserProfiles.count" FROM user_profiles WHERE tier = 'pro' GROUP BY bio`,
  },
  {
    name: 'a numeric price dimension groups products',
    ctx: 'dev',
    query: { measures: ['Products.count'], dimensions: ['Products.price'], filters: [{ member: 'Products.category', operator: 'equals', values: ['Books'] }] },
    sql: `SELECT price AS "Products.price", count(*) AS "Products.count" FROM products WHERE category = 'Books' GROUP BY price`,
  },
  {
    name: 'notes with null and empty groups for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.count'], dimensions: ['Orders.notes'] },
    sql: `SELECT notes AS "Orders.notes", count(*) AS "Orders.count" FROM orders GROUP BY notes`,
  },
  {
    name: 'two dimensions group together',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status', 'Orders.isShipped'] },
    sql: `SELECT status AS "Orders.status", shipped_at IS NOT NULL AS "Orders.isShipped", count(*) AS "Orders.count" FROM orders GROUP BY 1, 2`,
  },
  {
    name: 'a number dimension alone lists distinct product ids in order',
    ctx: 'user42',
    query: { dimensions: ['Orders.productId'] },
    sql: `SELECT DISTINCT product_id AS "Orders.productId" FROM orders ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a time dimension with a granularity given in dimensions as Cube.member.granularity',
    ctx: 'tenant4',
    query: { measures: ['Orders.count'], dimensions: ['Orders.createdAt.year'] },
    sql: `SELECT ${fmt(`date_trunc('year', ${local('created_at')})`)} AS "Orders.createdAt.year", count(*) AS "Orders.count" FROM orders GROUP BY 1`,
  },
];

export const SEGMENT_CASES: readonly ConformanceCase[] = [
  {
    name: 'the completed segment restricts rows',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.quantity'], segments: ['Orders.completed'] },
    sql: `SELECT quantity AS "Orders.quantity", count(*) AS "Orders.count" FROM orders WHERE status = 'completed' GROUP BY quantity`,
  },
  {
    name: 'the highValue segment for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.count', 'Orders.totalAmount'], segments: ['Orders.highValue'] },
    sql: `SELECT count(*) AS "Orders.count", sum(amount) AS "Orders.totalAmount" FROM orders WHERE amount > 500`,
  },
  {
    name: 'two segments are ANDed',
    ctx: 'tenant3',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], segments: ['Orders.completed', 'Orders.highValue'] },
    sql: `SELECT status AS "Orders.status", count(*) AS "Orders.count" FROM orders WHERE status = 'completed' AND amount > 500 GROUP BY status`,
  },
  {
    name: 'a segment with a filter on another cube',
    ctx: 'dev',
    query: { measures: ['Orders.count'], dimensions: ['Users.city'], segments: ['Orders.highValue'], filters: [{ member: 'Users.city', operator: 'in', values: ['Paris', 'Tokyo'] }] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Orders.count" FROM orders o JOIN users u ON u.id = o.user_id WHERE o.amount > 500 AND u.city IN ('Paris', 'Tokyo') GROUP BY 1`,
  },
];
