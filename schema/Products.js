// The product catalogue is shared by all tenants.
cube(`Products`, {
  sql_table: `public.products`,

  measures: {
    count: {
      type: `count`,
      drill_members: [id, name, category, price],
    },
    avgPrice: {
      sql: `${CUBE}.price`,
      type: `avg`,
      format: `currency`,
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primary_key: true,
    },
    name: {
      sql: `${CUBE}.name`,
      type: `string`,
    },
    category: {
      sql: `${CUBE}.category`,
      type: `string`,
    },
    price: {
      sql: `${CUBE}.price`,
      type: `number`,
      format: `currency`,
    },
  },
});
