// A view: one flat surface over orders and their buyers. Members keep their cubes' SQL,
// so each cube's security filter still applies when the view is queried.
view(`OrdersOverview`, {
  description: `Orders with the buyer's city and name`,
  cubes: [
    { join_path: Orders, includes: [`count`, `totalAmount`, `avgAmount`, `status`, `createdAt`] },
    { join_path: Orders.Users, prefix: true, includes: [`city`, `name`] },
  ],
});
