// Tenants of the demo data, one row per tenant the caller belongs to; the slow variants sleep in PostgreSQL
// once per statement, so a test can hold a statement in flight for a known time.
cube(`Fast`, {
  sql: `SELECT * FROM tessera_demo.tenants WHERE ${SECURITY_CONTEXT.tenant_id.filter('id')}`,
  measures: { count: { type: `count` } },
  dimensions: {
    id: { sql: `id`, type: `number`, primaryKey: true, public: true },
    name: { sql: `name`, type: `string` },
  },
});

cube(`SlowTwo`, {
  sql: `SELECT t.* FROM tessera_demo.tenants t CROSS JOIN (SELECT pg_sleep(2)) AS s WHERE ${SECURITY_CONTEXT.tenant_id.filter('t.id')}`,
  measures: { count: { type: `count` } },
});

cube(`SlowLong`, {
  sql: `SELECT t.* FROM tessera_demo.tenants t CROSS JOIN (SELECT pg_sleep(29)) AS s WHERE ${SECURITY_CONTEXT.tenant_id.filter('t.id')}`,
  measures: { count: { type: `count` } },
});

cube(`SlowFair`, {
  sql: `SELECT t.* FROM tessera_demo.tenants t CROSS JOIN (SELECT pg_sleep(1.5)) AS s WHERE ${SECURITY_CONTEXT.tenant_id.filter('t.id')}`,
  measures: { count: { type: `count` } },
});

// A model mistake: the column does not exist, so PostgreSQL fails the statement (a bug, not the caller's fault).
cube(`Broken`, {
  sql: `SELECT * FROM tessera_demo.tenants WHERE ${SECURITY_CONTEXT.tenant_id.filter('id')}`,
  measures: { total: { sql: `no_such_column`, type: `sum` } },
});
