// extends: the parent's bare columns are read through the child's own alias.
cube(`big_orders`, {
  extends: orders,
  sql: `SELECT * FROM cube_styles.orders WHERE amount >= 100`,

  measures: {
    average_amount: { sql: `amount`, type: `avg` },
  },
});
