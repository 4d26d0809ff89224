/**
 * `npx tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-load.ts`: drives /load for a few
 * seconds so a CPU profile shows where Tessera spends its time per request.
 */
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-database.js';
import { createApp } from '../src/server/create-app.js';
import { createAppDeps } from '../src/server/create-app-deps.js';
import { createLogger } from '../src/server/create-logger.js';

const config = await loadConfig({ env: { ...process.env, CUBEJS_API_SECRET: 'profile-secret-0123456789', LOG_LEVEL: 'warn', TESSERA_QUERY_RATE_LIMIT: '1000000000' } });
const logger = createLogger({ level: config.logLevel });
const db = createDatabase({ ...config.database, url: config.database.url as string }, logger);
const server = createApp(await createAppDeps({ config, db, logger })).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const port = (server.address() as AddressInfo).port;
const token = jwt.sign({ sub: 'user-42', u: { id: 42 }, tenant_id: 2 }, config.apiSecrets[0] as string, { algorithm: 'HS256', expiresIn: '1h' });
const query = JSON.stringify({ measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }] });
const result = await autocannon({
  url: `http://127.0.0.1:${port}/cubejs-api/v1/load?${new URLSearchParams({ query })}`,
  connections: 50,
  duration: Number(process.env.BENCH_DURATION_SEC ?? 5),
  headers: { Authorization: token },
});
console.log(`req/s ${result.requests.average} p50 ${result.latency.p50} p99 ${result.latency.p99} non2xx ${result.non2xx}`);
await new Promise((r) => setTimeout(r, 500));
server.close();
await db.close();
process.exit(0);
