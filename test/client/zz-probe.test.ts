import { it } from 'vitest';
import { createTestApp } from '../support/test-app.js';
import { userToken, signToken } from '../support/tokens.js';
import type { AddressInfo } from 'node:net';
it('probe', async () => {
  const t = await createTestApp();
  const server = t.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cubejs-api/v1`;
  const q = JSON.stringify({ measures: ['Orders.count', 'Orders.totalAmount'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2024-01-01', '2024-03-31'] }] });
  for (const [ep, tok] of [[`load?queryType=multi&query=${encodeURIComponent(q)}`, userToken(42)], [`sql?query=${encodeURIComponent(q)}`, userToken(42)], [`dry-run?query=${encodeURIComponent(q)}`, userToken(42)], ['meta', userToken(42)], [`load?query=${encodeURIComponent(q)}`, userToken(42, { expiresIn: '-10s' })]] as const) {
    const res = await fetch(`${base}/${ep}`, { headers: { Authorization: tok } });
    console.log(ep.slice(0, 10), res.status, (await res.text()).slice(0, 1500));
  }
  server.close(); await t.close();
});
