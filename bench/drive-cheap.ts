/**
 * `tsx bench/drive-cheap.ts <baseUrl>`: drives a running Tessera with the cheap uncached query
 * (a new filter value per request) for a CPU profile of the server, e.g. one started with
 * `node --cpu-prof --import tsx src/cli/main.ts serve`. Env: CUBEJS_API_SECRET, BENCH_DURATION_SEC (10),
 * BENCH_USERS (1: one token; 5000: a new user per request).
 */
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';

const base = process.argv[2] ?? 'http://127.0.0.1:4000';
const secret = process.env.CUBEJS_API_SECRET ?? '';
const users = Number(process.env.BENCH_USERS ?? 1);
const tokens = Array.from({ length: users }, (_, i) =>
  jwt.sign({ sub: `user-${i + 1}`, u: { id: i === 0 && users === 1 ? 42 : i + 1 }, tenant_id: 2 }, secret, { algorithm: 'HS256', expiresIn: '1h' }),
);
let n = 0;
const result = await autocannon({
  url: base,
  connections: 20,
  duration: Number(process.env.BENCH_DURATION_SEC ?? 10),
  requests: [
    {
      setupRequest: (req) => {
        n += 1;
        const query = { measures: ['Orders.count'], filters: [{ member: 'Orders.amount', operator: 'gt', values: [(n / 1000).toFixed(3)] }] };
        return { ...req, path: `/cubejs-api/v1/load?${new URLSearchParams({ query: JSON.stringify(query) })}`, headers: { ...req.headers, authorization: tokens[n % users] as string } };
      },
    },
  ],
});
console.log(`req/s ${result.requests.average} p50 ${result.latency.p50} ms non2xx ${result.non2xx} errors ${result.errors}`);
