/**
 * `tsx bench/drive-load.ts <baseUrl>`: drives a running Tessera with the cheap (or heavy) query
 * (a new filter value per request unless BENCH_REPEAT=1) for a CPU profile of the server, e.g. one started with
 * `node --cpu-prof --import tsx src/cli/main.ts serve`. Env: CUBEJS_API_SECRET, BENCH_DURATION_SEC (10),
 * BENCH_USERS (1: one token; 5000: a new user per request), BENCH_QUERY (cheap | heavy),
 * BENCH_REPEAT (1: the same filter value every time, i.e. cache hits).
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
        const value = process.env.BENCH_REPEAT === '1' ? '10' : (n / 1000).toFixed(3);
        const filters = [{ member: 'Orders.amount', operator: 'gt', values: [value] }];
        const query =
          process.env.BENCH_QUERY === 'heavy'
            ? { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Products.category'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month' }], filters }
            : { measures: ['Orders.count'], filters };
        return { ...req, path: `/cubejs-api/v1/load?${new URLSearchParams({ query: JSON.stringify(query) })}`, headers: { ...req.headers, authorization: tokens[n % users] as string } };
      },
    },
  ],
});
console.log(`req/s ${result.requests.average} p50 ${result.latency.p50} ms non2xx ${result.non2xx} errors ${result.errors}`);
