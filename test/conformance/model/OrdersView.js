// A view over the Orders join tree: plain, aliased and prefixed members from five cubes.
view(`OrdersView`, {
  cubes: [
    {
      join_path: Orders,
      includes: [`count`, `totalAmount`, `avgAmount`, `status`, `createdAt`],
    },
    {
      join_path: Orders.Users,
      includes: [`city`, { name: `name`, alias: `customerName` }],
    },
    {
      join_path: Orders.Users.Tenants,
      includes: [`plan`],
      prefix: true,
    },
    {
      join_path: Orders.OrderItems,
      includes: [
        { name: `revenue`, alias: `itemRevenue` },
        { name: `count`, alias: `itemCount` },
      ],
    },
    {
      join_path: Orders.Products,
      includes: [`category`],
    },
  ],
});
