// A caller with a tenant sees only its own tenant row.
cube(`Tenants`, {
  sql: `SELECT * FROM public.tenants WHERE ${SECURITY_CONTEXT.tenant_id.filter('id')}`,

  measures: {
    count: {
      type: `count`,
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    name: {
      sql: `${CUBE}.name`,
      type: `string`,
    },
    plan: {
      sql: `${CUBE}.plan`,
      type: `string`,
    },
  },
});
