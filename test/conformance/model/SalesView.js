// `includes: '*'` must not re-expose the members hidden on Sales (Cube issue #11228).
view(`SalesView`, {
  cubes: [
    {
      join_path: Sales,
      includes: `*`,
    },
  ],
});
