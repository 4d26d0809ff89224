cube(`line_items`, {
  sql_table: `cube_styles.line_items`,

  joins: {
    orders: { relationship: `many_to_one`, sql: `${CUBE}.order_id = ${orders}.id` },
  },

  measures: {
    count: { type: `count` },
    quantity: { sql: `qty`, type: `sum` },
    revenue: { sql: `qty * price`, type: `sum` },
  },

  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true },
    product: { sql: `product`, type: `string` },
  },
});
