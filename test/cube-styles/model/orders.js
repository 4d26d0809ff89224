cube(`orders`, {
  sql: `SELECT * FROM cube_styles.orders`,

  joins: {
    customers: { relationship: `many_to_one`, sql: `${CUBE}.customer_id = ${customers}.id` },
    line_items: { relationship: `one_to_many`, sql: `${CUBE}.id = ${line_items}.order_id` },
  },

  measures: {
    count: { type: `count` },
    total_amount: { sql: `amount`, type: `sum` },
    completed_count: { type: `count`, filters: [{ sql: `${CUBE}.status = 'completed'` }] },
    amount_per_order: { sql: `${total_amount} / NULLIF(${count}, 0)`, type: `number` },
    rolling_amount_7d: { sql: `amount`, type: `sum`, rolling_window: { trailing: `7 day` } },
    running_count: { type: `count`, rolling_window: { trailing: `unbounded` } },
    next_7d_amount: { sql: `amount`, type: `sum`, rolling_window: { leading: `7 day`, offset: `start` } },
  },

  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true, shown: true },
    status: { sql: `status`, type: `string` },
    amount: { sql: `amount`, type: `number` },
    created_at: { sql: `created_at`, type: `time` },
    customer_city: { sql: `${customers.city}`, type: `string` },
  },

  segments: {
    completed: { sql: `${CUBE}.status = 'completed'` },
  },
});
