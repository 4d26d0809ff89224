// Profiles are scoped through their user: same tenant and user filters as Users.
cube(`UserProfiles`, {
  sql: `SELECT p.* FROM public.user_profiles p JOIN public.users u ON u.id = p.user_id WHERE ${SECURITY_CONTEXT.tenant_id.filter('u.tenant_id')} AND ${USER_CONTEXT.id.filter('p.user_id')}`,

  measures: {
    count: {
      type: `count`,
    },
    marketingOptInCount: {
      type: `count`,
      filters: [{ sql: `${CUBE}.marketing_opt_in` }],
    },
    marketingOptInRate: {
      sql: `100.0 * ${marketingOptInCount} / NULLIF(${count}, 0)`,
      type: `number`,
      format: `percent`,
    },
  },

  dimensions: {
    userId: {
      sql: `${CUBE}.user_id`,
      type: `number`,
      primaryKey: true,
    },
    bio: {
      sql: `${CUBE}.bio`,
      type: `string`,
    },
    tier: {
      sql: `${CUBE}.tier`,
      type: `string`,
    },
    marketingOptIn: {
      sql: `${CUBE}.marketing_opt_in`,
      type: `boolean`,
    },
  },
});
