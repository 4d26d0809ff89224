// Users with subQuery dimensions over their orders; both cubes keep their security filters.
cube(`Customers`, {
  sql: `SELECT * FROM tessera_demo.users WHERE ${SECURITY_CONTEXT.tenant_id.filter('tenant_id')} AND ${USER_CONTEXT.id.filter('id')}`,

  joins: {
    Orders: {
      relationship: `hasMany`,
      sql: `${CUBE}.id = ${Orders}.user_id`,
    },
  },

  measures: {
    count: {
      type: `count`,
    },
    avgOrderCount: {
      sql: `${orderCount}`,
      type: `avg`,
    },
    totalLifetimeValue: {
      sql: `${lifetimeValue}`,
      type: `sum`,
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    city: {
      sql: `${CUBE}.city`,
      type: `string`,
    },
    orderCount: {
      sql: `${Orders.count}`,
      type: `number`,
      subQuery: true,
    },
    lifetimeValue: {
      sql: `${Orders.totalAmount}`,
      type: `number`,
      subQuery: true,
    },
  },
});
