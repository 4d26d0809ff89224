// Written as Cube's docs write models: bare column names and snake_case keys.
cube(`customers`, {
  sql_table: `cube_styles.customers`,

  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true, public: true },
    name: { sql: `name`, type: `string` },
    city: { sql: `city`, type: `string` },
    signed_up_at: { sql: `created_at`, type: `time` },
    lifetime_value: { sql: `${orders.total_amount}`, type: `number`, sub_query: true },
  },

  measures: {
    count: { type: `count` },
  },

  segments: {
    vip: { sql: `is_vip` },
  },
});
