// FILTER_PARAMS prune the source by the query's own date filter.
cube(`order_events`, {
  sql: `SELECT * FROM cube_styles.orders WHERE ${FILTER_PARAMS.order_events.created_at.filter('created_at')}`,

  measures: {
    count: { type: `count` },
    amount_7d: { sql: `amount`, type: `sum`, rolling_window: { trailing: `7 day` } },
    amount_to_date: { sql: `amount`, type: `sum`, rolling_window: { trailing: `unbounded` } },
  },

  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true },
    created_at: { sql: `created_at`, type: `time` },
  },
});
