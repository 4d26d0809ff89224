// Users of the caller's tenant; a context with a user id sees only that user.
cube(`Users`, {
  sql: `SELECT * FROM public.users WHERE ${SECURITY_CONTEXT.tenant_id.filter('tenant_id')} AND ${USER_CONTEXT.id.filter('id')}`,

  joins: {
    UserProfiles: {
      relationship: `hasOne`,
      sql: `${CUBE}.id = ${UserProfiles}.user_id`,
    },
    Tenants: {
      relationship: `belongsTo`,
      sql: `${CUBE}.tenant_id = ${Tenants}.id`,
    },
  },

  measures: {
    count: {
      type: `count`,
      drillMembers: [id, name, email, city],
    },
  },

  dimensions: {
    // A subQuery dimension: each user's own order total, usable as a dimension or a filter.
    lifetimeValue: {
      sql: `${Orders.totalAmount}`,
      type: `number`,
      subQuery: true,
    },
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    tenantId: {
      sql: `${CUBE}.tenant_id`,
      type: `number`,
    },
    name: {
      sql: `${CUBE}.name`,
      type: `string`,
    },
    email: {
      sql: `${CUBE}.email`,
      type: `string`,
    },
    city: {
      sql: `${CUBE}.city`,
      type: `string`,
    },
    createdAt: {
      sql: `${CUBE}.created_at`,
      type: `time`,
    },
  },
});
