// A one-cube model for the operator tests: orders filtered by the caller's tenant.
cube('Orders', {
  sql: `SELECT * FROM tessera_demo.orders WHERE ${SECURITY_CONTEXT.tenant_id.filter('tenant_id')}`,
  measures: {
    count: { type: 'count' },
  },
  dimensions: {
    id: { sql: 'id', type: 'number', primaryKey: true },
    tenantId: { sql: 'tenant_id', type: 'number' },
  },
});
