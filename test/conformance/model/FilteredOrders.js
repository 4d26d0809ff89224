// Orders whose source query renders the query's own filters (FILTER_PARAMS) next to the security filters.
cube(`FilteredOrders`, {
  sql: `SELECT * FROM tessera_demo.orders WHERE ${FILTER_PARAMS.FilteredOrders.status.filter('status')} AND ${FILTER_PARAMS.FilteredOrders.createdAt.filter((from, to) => `created_at >= ${from}::timestamptz AND created_at <= ${to}::timestamptz`)} AND ${SECURITY_CONTEXT.tenant_id.filter('tenant_id')} AND ${USER_CONTEXT.id.filter('user_id')}`,

  measures: {
    count: {
      type: `count`,
    },
    totalAmount: {
      sql: `${CUBE}.amount`,
      type: `sum`,
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    status: {
      sql: `${CUBE}.status`,
      type: `string`,
    },
    createdAt: {
      sql: `${CUBE}.created_at`,
      type: `time`,
    },
  },
});
