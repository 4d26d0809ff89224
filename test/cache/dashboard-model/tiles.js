// A tenant-wide dashboard tile: every run of its statement takes a sequence value (one row per
// tenant), so a test can count the statements that reached the database.
cube(`tiles`, {
  sql: `SELECT nextval('public.i14_dashboard_runs') AS run, t.id, t.name FROM tessera_demo.tenants t WHERE ${SECURITY_CONTEXT.tenant_id.filter('t.id')}`,
  measures: {
    count: { type: `count` },
  },
  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true, public: true },
    name: { sql: `name`, type: `string` },
  },
});
