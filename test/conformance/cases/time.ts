/**
 * Time dimensions: every granularity, timezones (with DST changes), date ranges on own
 * and joined cubes, and ordering by time.
 */
import { at, bucket, type ConformanceCase } from '../harness.js';

const td = (dimension: string, granularity?: string, dateRange?: unknown) => ({
  dimension,
  ...(granularity ? { granularity } : {}),
  ...(dateRange ? { dateRange } : {}),
});

export const TIME_CASES: readonly ConformanceCase[] = [
  {
    name: 'year granularity in UTC',
    ctx: 'dev',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'year')] },
    sql: `SELECT ${bucket('year', 'created_at')} AS "Orders.createdAt.year", count(*) AS "Orders.count" FROM orders GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'quarter granularity in America/New_York',
    ctx: 'tenant1',
    query: { measures: ['Orders.totalAmount'], timeDimensions: [td('Orders.createdAt', 'quarter')], timezone: 'America/New_York' },
    sql: `SELECT ${bucket('quarter', 'created_at', 'America/New_York')} AS "Orders.createdAt.quarter", sum(amount) AS "Orders.totalAmount" FROM orders GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'month granularity in Asia/Kolkata for user 42',
    ctx: 'user42',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'month')], timezone: 'Asia/Kolkata' },
    sql: `SELECT ${bucket('month', 'created_at', 'Asia/Kolkata')} AS "Orders.createdAt.month", count(*) AS "Orders.count" FROM orders GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'week granularity starts on Monday across a DST change in Europe/Berlin',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'week', ['2024-03-01', '2024-04-15'])], timezone: 'Europe/Berlin' },
    sql: `SELECT ${bucket('week', 'created_at', 'Europe/Berlin')} AS "Orders.createdAt.week", count(*) AS "Orders.count" FROM orders
          WHERE created_at >= ${at('2024-03-01 00:00', 'Europe/Berlin')} AND created_at < ${at('2024-04-16 00:00', 'Europe/Berlin')} GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'day granularity in Australia/Sydney',
    ctx: 'tenant3',
    query: { measures: ['Orders.count', 'Orders.avgAmount'], timeDimensions: [td('Orders.createdAt', 'day', ['2024-04-01', '2024-04-10'])], timezone: 'Australia/Sydney' },
    sql: `SELECT ${bucket('day', 'created_at', 'Australia/Sydney')} AS "Orders.createdAt.day", count(*) AS "Orders.count", avg(amount) AS "Orders.avgAmount" FROM orders
          WHERE created_at >= ${at('2024-04-01 00:00', 'Australia/Sydney')} AND created_at < ${at('2024-04-11 00:00', 'Australia/Sydney')} GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'hour granularity across the spring-forward hour in America/Los_Angeles',
    ctx: 'dev',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'hour', ['2024-03-10', '2024-03-10'])], timezone: 'America/Los_Angeles' },
    sql: `SELECT ${bucket('hour', 'created_at', 'America/Los_Angeles')} AS "Orders.createdAt.hour", count(*) AS "Orders.count" FROM orders
          WHERE created_at >= ${at('2024-03-10 00:00', 'America/Los_Angeles')} AND created_at < ${at('2024-03-11 00:00', 'America/Los_Angeles')} GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'minute granularity with a datetime range',
    ctx: 'dev',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'minute', ['2024-05-05T10:00:00', '2024-05-05T13:59:59'])] },
    sql: `SELECT ${bucket('minute', 'created_at')} AS "Orders.createdAt.minute", count(*) AS "Orders.count" FROM orders
          WHERE created_at >= '2024-05-05T10:00:00Z' AND created_at <= '2024-05-05T13:59:59Z' GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'second granularity in Pacific/Chatham',
    ctx: 'tenant5',
    query: { measures: ['Orders.totalAmount'], timeDimensions: [td('Orders.createdAt', 'second', ['2024-06-01', '2024-06-03'])], timezone: 'Pacific/Chatham' },
    sql: `SELECT ${bucket('second', 'created_at', 'Pacific/Chatham')} AS "Orders.createdAt.second", sum(amount) AS "Orders.totalAmount" FROM orders
          WHERE created_at >= ${at('2024-06-01 00:00', 'Pacific/Chatham')} AND created_at < ${at('2024-06-04 00:00', 'Pacific/Chatham')} GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a time dimension without granularity only filters',
    ctx: 'tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [td('Orders.createdAt', undefined, ['2024-02-29'])] },
    sql: `SELECT status AS "Orders.status", count(*) AS "Orders.count" FROM orders WHERE created_at >= '2024-02-29Z' AND created_at < '2024-03-01Z' GROUP BY 1`,
  },
  {
    name: 'a grouped time dimension with a filtering second time dimension',
    ctx: 'tenant3',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'month', ['2024-01-01', '2024-06-30']), td('Orders.shippedAt', undefined, ['2024-03-01', '2024-03-31'])] },
    sql: `SELECT ${bucket('month', 'created_at')} AS "Orders.createdAt.month", count(*) AS "Orders.count" FROM orders
          WHERE created_at >= '2024-01-01Z' AND created_at < '2024-07-01Z' AND shipped_at >= '2024-03-01Z' AND shipped_at < '2024-04-01Z' GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'users per signup month of a tenant',
    ctx: 'tenant2',
    query: { measures: ['Users.count'], timeDimensions: [td('Users.createdAt', 'month')] },
    sql: `SELECT ${bucket('month', 'created_at')} AS "Users.createdAt.month", count(*) AS "Users.count" FROM users GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a time dimension with a dimension, ordered by time descending',
    ctx: 'user47tenant2',
    query: { measures: ['Orders.count'], dimensions: ['Orders.status'], timeDimensions: [td('Orders.createdAt', 'quarter')], order: [['Orders.createdAt.quarter', 'desc'], ['Orders.status', 'asc']] },
    sql: `SELECT ${bucket('quarter', 'created_at')} AS "Orders.createdAt.quarter", status AS "Orders.status", count(*) AS "Orders.count" FROM orders GROUP BY 1, 2 ORDER BY 1 DESC, 2 ASC`,
    ordered: true,
  },
  {
    name: 'a date range on a joined cube\'s time dimension',
    ctx: 'tenant4',
    query: { measures: ['Orders.count'], dimensions: ['Users.city'], timeDimensions: [td('Users.createdAt', undefined, ['2022-06-01', '2022-06-30'])] },
    sql: `SELECT u.city AS "Users.city", count(*) AS "Orders.count" FROM orders o JOIN users u ON u.id = o.user_id
          WHERE u.created_at >= '2022-06-01Z' AND u.created_at < '2022-07-01Z' GROUP BY 1`,
  },
  {
    name: 'a joined cube\'s time dimension as the grouping time',
    ctx: 'tenant1',
    query: { measures: ['Orders.count'], timeDimensions: [td('Users.createdAt', 'quarter')] },
    sql: `SELECT ${bucket('quarter', 'u.created_at')} AS "Users.createdAt.quarter", count(*) AS "Orders.count" FROM orders o LEFT JOIN users u ON u.id = o.user_id GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'a date range as a single string date',
    ctx: 'tenant5',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.createdAt', 'hour', '2025-01-01')] },
    sql: `SELECT ${bucket('hour', 'created_at')} AS "Orders.createdAt.hour", count(*) AS "Orders.count" FROM orders
          WHERE created_at >= '2025-01-01Z' AND created_at < '2025-01-02Z' GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'the same member grouped by two granularities',
    ctx: 'user42',
    query: {
      measures: ['Orders.count'],
      timeDimensions: [td('Orders.createdAt', 'year'), td('Orders.createdAt', 'quarter')],
      order: [['Orders.createdAt.year', 'asc'], ['Orders.createdAt.quarter', 'asc']],
    },
    sql: `SELECT ${bucket('year', 'created_at')} AS "Orders.createdAt.year", ${bucket('quarter', 'created_at')} AS "Orders.createdAt.quarter", count(*) AS "Orders.count"
          FROM orders GROUP BY 1, 2 ORDER BY 1, 2`,
    ordered: true,
  },
  {
    name: 'a nullable time dimension groups a null bucket',
    ctx: 'user7',
    query: { measures: ['Orders.count'], timeDimensions: [td('Orders.shippedAt', 'year')], order: { 'Orders.shippedAt.year': 'asc' } },
    sql: `SELECT ${bucket('year', 'shipped_at')} AS "Orders.shippedAt.year", count(*) AS "Orders.count" FROM orders GROUP BY 1 ORDER BY 1 ASC NULLS LAST`,
    ordered: true,
  },
];
