// The Cube seed example, extended: every query sees only the caller's own orders (USER_CONTEXT.id)
// within the caller's tenant (SECURITY_CONTEXT.tenant_id); both values are bound parameters.
cube(`Orders`, {
  sql: `SELECT * FROM tessera_demo.orders WHERE ${USER_CONTEXT.id.filter('user_id')} AND ${SECURITY_CONTEXT.tenant_id.filter('tenant_id')}`,

  joins: {
    Users: {
      relationship: `belongsTo`,
      sql: `${CUBE}.user_id = ${Users}.id`,
    },
    Products: {
      relationship: `belongsTo`,
      sql: `${CUBE}.product_id = ${Products}.id`,
    },
    OrderItems: {
      relationship: `hasMany`,
      sql: `${CUBE}.id = ${OrderItems}.order_id`,
    },
  },

  measures: {
    count: {
      type: `count`,
      drillMembers: [id, status, amount, createdAt],
    },
    totalAmount: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      format: `currency`,
      drillMembers: [id, status, createdAt, Users.name],
    },
    avgAmount: {
      sql: `${CUBE}.amount`,
      type: `avg`,
      format: `currency`,
    },
    minAmount: {
      sql: `${CUBE}.amount`,
      type: `min`,
      format: `currency`,
    },
    maxAmount: {
      sql: `${CUBE}.amount`,
      type: `max`,
      format: `currency`,
    },
    uniqueUsers: {
      sql: `${CUBE}.user_id`,
      type: `countDistinct`,
    },
    completedCount: {
      type: `count`,
      filters: [{ sql: `${CUBE}.status = 'completed'` }],
    },
    completedRatio: {
      sql: `100.0 * ${completedCount} / NULLIF(${count}, 0)`,
      type: `number`,
      format: `percent`,
    },
    totalQuantity: {
      sql: `${CUBE}.quantity`,
      type: `sum`,
    },
    // Rolling windows: the last 7 days up to each period's end, everything so far, and month to date.
    rollingAmount7d: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      rollingWindow: { trailing: `7 day` },
    },
    runningAmount: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      rollingWindow: { trailing: `unbounded` },
    },
    monthToDateCount: {
      type: `count`,
      rollingWindow: { type: `to_date`, granularity: `month` },
    },
  },

  dimensions: {
    id: {
      sql: `${CUBE}.id`,
      type: `number`,
      primaryKey: true,
    },
    status: {
      sql: `${CUBE}.status`,
      type: `string`,
    },
    amount: {
      sql: `${CUBE}.amount`,
      type: `number`,
      format: `currency`,
    },
    quantity: {
      sql: `${CUBE}.quantity`,
      type: `number`,
    },
    createdAt: {
      sql: `${CUBE}.created_at`,
      type: `time`,
    },
    shippedAt: {
      sql: `${CUBE}.shipped_at`,
      type: `time`,
    },
    notes: {
      sql: `${CUBE}.notes`,
      type: `string`,
    },
    isShipped: {
      sql: `${CUBE}.shipped_at IS NOT NULL`,
      type: `boolean`,
    },
    sizeBucket: {
      type: `string`,
      case: {
        when: [
          { sql: `${CUBE}.amount < 100`, label: `small` },
          { sql: `${CUBE}.amount < 500`, label: `medium` },
        ],
        else: { label: `large` },
      },
    },
    userId: {
      sql: `${CUBE}.user_id`,
      type: `number`,
    },
    productId: {
      sql: `${CUBE}.product_id`,
      type: `number`,
    },
  },

  segments: {
    completed: {
      sql: `${CUBE}.status = 'completed'`,
    },
    highValue: {
      sql: `${CUBE}.amount > 500`,
    },
  },
});
