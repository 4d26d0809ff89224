// Orders under another name through `extends`, with rolling-window measures and hidden members.
cube(`Sales`, {
  extends: Orders,

  measures: {
    rolling7DayAmount: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      rollingWindow: { trailing: `7 day` },
    },
    cumulativeCount: {
      type: `count`,
      rollingWindow: { trailing: `unbounded` },
    },
    yearToDateAmount: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      rollingWindow: { type: `to_date`, granularity: `year` },
    },
    twoDayCount: {
      type: `count`,
      rollingWindow: { trailing: `1 day`, leading: `1 day`, offset: `start` },
    },
    internalTotal: {
      sql: `${CUBE}.amount`,
      type: `sum`,
      public: false,
    },
  },

  dimensions: {
    internalNotes: {
      sql: `${CUBE}.notes`,
      type: `string`,
      shown: false,
    },
  },
});
