// Order lines carry no owner of their own: they are scoped by joining back to their order's filters.
// FILTER_PARAMS pushes a query's own filter on Orders.createdAt down into this subquery (bound, or 1 = 1).
cube(`OrderItems`, {
  sql: `SELECT oi.* FROM public.order_items oi JOIN public.orders o ON o.id = oi.order_id
        WHERE ${USER_CONTEXT.id.filter('o.user_id')} AND ${SECURITY_CONTEXT.tenant_id.filter('o.tenant_id')}
          AND ${FILTER_PARAMS.Orders.createdAt.filter('o.created_at')}`,

  measures: {
    count: {
      type: `count`,
    },
    totalQuantity: {
      sql: `${CUBE}.quantity`,
      type: `sum`,
    },
    revenue: {
      sql: `${CUBE}.quantity * ${CUBE}.price`,
      type: `sum`,
      format: `currency`,
      drillMembers: [id, orderId, productId, quantity, price],
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    orderId: {
      sql: `${CUBE}.order_id`,
      type: `number`,
    },
    productId: {
      sql: `${CUBE}.product_id`,
      type: `number`,
    },
    quantity: {
      sql: `${CUBE}.quantity`,
      type: `number`,
    },
    price: {
      sql: `${CUBE}.price`,
      type: `number`,
      format: `currency`,
    },
  },
});
