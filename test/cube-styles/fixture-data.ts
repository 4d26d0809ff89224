/**
 * The fixture tables of the Cube-style models, in their own PostgreSQL schema `cube_styles`:
 * NULL keys and values, a customer without orders, orders without items and a one-to-many fan-out.
 */
import type pg from 'pg';

export const FIXTURE_SQL = `
DROP SCHEMA IF EXISTS cube_styles CASCADE;
CREATE SCHEMA cube_styles;
CREATE TABLE cube_styles.customers (id int PRIMARY KEY, name text, city text, is_vip boolean NOT NULL, created_at timestamptz);
CREATE TABLE cube_styles.orders (id int PRIMARY KEY, customer_id int, status text, amount numeric, created_at timestamptz);
CREATE TABLE cube_styles.line_items (id int PRIMARY KEY, order_id int, product text, qty int, price numeric);
INSERT INTO cube_styles.customers VALUES
  (1, 'Ann', 'Paris', true, '2024-01-05T00:00:00Z'),
  (2, 'Bob', 'Berlin', false, '2024-02-10T00:00:00Z'),
  (3, 'Cid', NULL, false, '2024-03-01T00:00:00Z'),
  (4, 'Dee', 'Paris', true, '2024-03-15T00:00:00Z'),
  (5, 'Eve', 'Rome', false, '2024-04-01T00:00:00Z');
INSERT INTO cube_styles.orders VALUES
  (10, 1, 'completed', 100, '2024-01-10T10:00:00Z'),
  (11, 1, 'pending', 50, '2024-01-20T23:30:00Z'),
  (12, 2, 'completed', 200, '2024-02-15T08:00:00Z'),
  (13, 3, 'completed', 75, '2024-03-05T12:00:00Z'),
  (14, 4, 'cancelled', 30, '2024-03-20T00:00:00Z'),
  (15, 2, 'completed', 120, '2024-04-01T09:15:00Z'),
  (16, 1, NULL, 10, '2024-04-02T10:00:00Z'),
  (17, NULL, 'pending', 40, '2024-04-03T00:00:00Z');
INSERT INTO cube_styles.line_items VALUES
  (100, 10, 'pen', 2, 5), (101, 10, 'ink', 1, 20),
  (102, 12, 'pen', 5, 5), (103, 12, 'pad', 1, 8), (104, 12, 'ink', 2, 20),
  (105, 13, 'pad', 3, 8), (106, 15, 'pen', 1, 5), (107, 16, 'pad', 1, 8),
  (108, 17, NULL, 4, 2);
`;

export async function createFixture(db: pg.Client): Promise<void> {
  await db.query(FIXTURE_SQL);
}
