// Each run of this cube's statement takes a sequence value and sleeps, so a test can count how
// many statements reached the database (the sequence) and outlast a short Continue-wait.
cube(`slow_runs`, {
  sql: `SELECT nextval('public.i14_cache_http_runs') AS run, 1 AS id, pg_sleep(0.6)::text AS nap`,
  measures: {
    count: { type: `count` },
  },
  dimensions: {
    id: { sql: `id`, type: `number`, primary_key: true },
    run: { sql: `run`, type: `number` },
  },
});
