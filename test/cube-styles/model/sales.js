view(`sales`, {
  cubes: [
    {
      join_path: orders,
      includes: [`count`, `total_amount`, `status`, { name: `created_at`, alias: `ordered_at` }],
    },
    {
      join_path: orders.customers,
      prefix: true,
      includes: `*`,
      excludes: [`lifetime_value`, `signed_up_at`],
    },
    {
      join_path: orders.line_items,
      includes: [{ name: `quantity`, alias: `units` }],
    },
  ],
});
