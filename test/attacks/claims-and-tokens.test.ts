/**
 * Class: credentials and claims. Missing, misspelled, prototype-only, legacy `u`, typed and
 * structured claim values, repeated or mixed credential headers, and forged tokens must never
 * yield rows of another tenant (or all tenants): either the caller's own rows or a 4xx.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawToken, signToken, TEST_SECRET } from '../support/tokens.js';
import { load, only, openHarness, tenantToken, truth, type Harness } from './support.js';

let h: Harness;
let server: http.Server;
let port: number;
beforeAll(async () => {
  h = await openHarness();
  server = http.createServer(h.t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

const ordersOf = (tenant: number) => truth(h, 'select count(*) from orders where tenant_id = $1', [tenant]);
const QUERIES = [{ measures: ['s_orders.count'] }, { measures: ['p_orders.count'] }, { measures: ['v_orders.o_count'] }];

/** HS256 over a raw JSON payload, which jsonwebtoken would not sign (`__proto__` keys). */
function signRaw(payloadJson: string): string {
  const body = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${body}.${createHmac('sha256', TEST_SECRET).update(body).digest('base64url')}`;
}
const exp = () => Math.floor(Date.now() / 1000) + 3600;

/** A request that can repeat a header (supertest merges them). */
function rawLoad(headers: [string, string][], query: unknown = QUERIES[0]): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: `/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(query))}` });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Never all rows, never another tenant: a 4xx, or the rows of `allowed` tenants. */
async function expectNoWiderThan(token: string, allowed: number[] | null) {
  for (const q of QUERIES) {
    const res = await load(h, token, q);
    expect(res.status, `${JSON.stringify(q)} -> ${JSON.stringify(res.body)}`).toBeLessThan(500);
    if (allowed === null) {
      expect(res.status, `${JSON.stringify(q)} -> ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
      expect(typeof res.body.error).toBe('string');
      expect(res.body.code).toMatch(/^ERR_/);
    } else if (res.status === 200) {
      const member = q.measures[0]!;
      expect(only(res.body, member)).toBe(
        await truth(h, 'select count(*) from orders where tenant_id = any($1::int[])', [allowed]));
    }
  }
}

describe('missing and misspelled claims', () => {
  it('refuses a token without any tenant claim on every policed shape', async () => {
    await expectNoWiderThan(signToken({ sub: 'nobody' }), null);
  });

  it('refuses a camelCase tenantId claim instead of matching all rows', async () => {
    await expectNoWiderThan(signToken({ sub: 'x', tenantId: 1 }), null);
  });

  it('refuses a TENANT_ID claim in another case', async () => {
    await expectNoWiderThan(signToken({ sub: 'x', TENANT_ID: 1, Tenant_Id: 1 }), null);
  });

  it('refuses claims that only sit under __proto__', async () => {
    await expectNoWiderThan(signRaw(`{"sub":"x","exp":${exp()},"__proto__":{"tenant_id":1}}`), null);
    await expectNoWiderThan(signRaw(`{"sub":"x","exp":${exp()},"u":{"__proto__":{"tenant_id":1}}}`), null);
  });

  it('refuses claims under constructor.prototype', async () => {
    await expectNoWiderThan(signRaw(`{"sub":"x","exp":${exp()},"constructor":{"prototype":{"tenant_id":1}}}`), null);
  });

  it('refuses tenant_id nested only under u (legacy) when it is a different key spelling', async () => {
    await expectNoWiderThan(signToken({ sub: 'x', u: { tenantId: 2 } }), null);
  });
});

describe('claim precedence and values', () => {
  it('answers for the top-level tenant when the legacy u claim names another', async () => {
    await expectNoWiderThan(signToken({ sub: 'x', tenant_id: 1, u: { tenant_id: 2 } }), [1]);
    const res = await load(h, signToken({ sub: 'x', tenant_id: 1, u: { tenant_id: 2 } }), QUERIES[1]);
    expect(only(res.body, 'p_orders.count')).toBe(await ordersOf(1));
  });

  it('answers for the legacy u tenant when it is the only tenant claim', async () => {
    const res = await load(h, signToken({ sub: 'x', u: { tenant_id: 3 } }), QUERIES[0]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 's_orders.count')).toBe(await ordersOf(3));
  });

  it('treats a numeric string claim like the number', async () => {
    for (const q of QUERIES) {
      const res = await load(h, tenantToken('4'), q);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(only(res.body, q.measures[0]!)).toBe(await ordersOf(4));
    }
  });

  it('does not turn an injected claim value into SQL', async () => {
    for (const value of ['1 OR 1=1', "1' OR '1'='1", '1; drop table orders', '1)) OR ((1=1', '-1 UNION SELECT 1']) {
      await expectNoWiderThan(tenantToken(value), []);
    }
    expect(await truth(h, 'select count(*) > 0 from orders')).toBe('true');
  });

  it('fails closed on an object claim value', async () => {
    for (const value of [{}, { $ne: 1 }, { id: 1 }, [[1]]]) await expectNoWiderThan(tenantToken(value), null);
  });

  it('binds null, false, 0 and empty string as real values that match no tenant', async () => {
    for (const value of [null, false, 0, '']) await expectNoWiderThan(tenantToken(value), []);
  });

  it('gives an array claim no more than its listed tenants, and an empty array nothing', async () => {
    await expectNoWiderThan(tenantToken([1, 2]), [1, 2]);
    await expectNoWiderThan(tenantToken([]), []);
  });

  it('does not let a huge number claim wrap into another tenant', async () => {
    for (const value of [4294967297, 2 ** 53 + 1, -0, 1.0000000001, '1e0', '1_0']) await expectNoWiderThan(tenantToken(value), []);
    // PostgreSQL reads these as the integer 1 (the claim is signed, so it names tenant 1).
    for (const value of [' 1', '+1', '01', '0x1']) await expectNoWiderThan(tenantToken(value), [1]);
  });
});

describe('credential headers', () => {
  it('refuses two Authorization headers for different tenants', async () => {
    const res = await rawLoad([['Authorization', tenantToken(1)], ['Authorization', tenantToken(2)]]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_AUTH_AMBIGUOUS_CREDENTIALS');
  });

  it('refuses two Authorization headers even when the first is bogus', async () => {
    const res = await rawLoad([['Authorization', 'garbage'], ['Authorization', tenantToken(2)]]);
    expect(res.status).toBe(400);
  });

  it('refuses Authorization beside x-cube-authorization with another tenant', async () => {
    const res = await rawLoad([['Authorization', tenantToken(1)], ['x-cube-authorization', tenantToken(2)]]);
    expect(res.status).toBe(400);
  });

  it('answers only the token tenant when API keys are off and an X-API-Key header rides along', async () => {
    const res = await rawLoad([['Authorization', tenantToken(1)], ['X-API-Key', 'tsk_0123456789abcdef0123456789abcdef']]);
    expect([res.status, String((res.body.data as Record<string, unknown>[])[0]!['s_orders.count'])]).toEqual([200, await ordersOf(1)]);
  });

  it('refuses a comma-joined pair of tokens in one header, as a proxy joins repeated headers', async () => {
    for (const name of ['Authorization', 'x-cube-authorization']) {
      for (const value of [`${tenantToken(1)}, ${tenantToken(2)}`, `Bearer ${tenantToken(3)} ${tenantToken(1)}`, `Bearer ${tenantToken(3)}, Bearer ${tenantToken(1)}`]) {
        const res = await rawLoad([[name, value]]);
        expect([res.status, res.body.code]).toEqual([400, 'ERR_AUTH_AMBIGUOUS_CREDENTIALS']);
      }
    }
  });

  it('answers the single token of a Bearer header in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await rawLoad([['Authorization', `${scheme} ${tenantToken(2)}`]]);
      if (res.status === 200) expect(String((res.body.data as Record<string, unknown>[])[0]!['s_orders.count'])).toBe(await ordersOf(2));
      else expect(res.status).toBeLessThan(500);
    }
  });
});

describe('forged tokens', () => {
  const claims = { sub: 'forger', tenant_id: 1, exp: Math.floor(Date.now() / 1000) + 3600 };

  it('refuses alg none in every spelling', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      for (const sig of ['', 'x']) {
        const res = await load(h, rawToken({ alg, typ: 'JWT' }, claims, sig), QUERIES[0]);
        expect([res.status, alg]).toEqual([403, alg]);
      }
    }
  });

  it('refuses HS512 and HS384 signed with the right secret (HS256 only)', async () => {
    for (const algorithm of ['HS512', 'HS384'] as const) {
      const res = await load(h, jwt.sign(claims, TEST_SECRET, { algorithm }), QUERIES[0]);
      expect(res.status).toBe(403);
    }
  });

  it('refuses RS256 and ES256 tokens signed with keys of the attacker', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const [key, algorithm] of [[rsa.privateKey, 'RS256'], [ec.privateKey, 'ES256']] as const) {
      const res = await load(h, jwt.sign(claims, key, { algorithm }), QUERIES[0]);
      expect(res.status).toBe(403);
    }
  });

  it('refuses an HS256 token with a tampered payload', async () => {
    const [head, , sig] = tenantToken(1).split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, tenant_id: 2 })).toString('base64url')}.${sig}`;
    const res = await load(h, forged, QUERIES[0]);
    expect(res.status).toBe(403);
  });

  it('refuses a jku, jwk or kid header pointing at attacker keys', async () => {
    for (const header of [{ jku: 'http://127.0.0.1:1/jwks' }, { kid: '../../dev/null' }, { jwk: { kty: 'oct', k: 'YQ' } }]) {
      const tok = jwt.sign(claims, 'a', { algorithm: 'HS256', header: { alg: 'HS256', ...header } });
      const res = await load(h, tok, QUERIES[0]);
      expect(res.status).toBe(403);
    }
  });

  it('refuses expired and not-yet-valid tokens', async () => {
    expect((await load(h, signToken({ sub: 'x', tenant_id: 1 }, { expiresIn: '-5s' }), QUERIES[0])).status).toBe(403);
    expect((await load(h, signToken({ sub: 'x', tenant_id: 1 }, { notBefore: '10m' }), QUERIES[0])).status).toBe(403);
  });

  it('refuses non-object payloads without a 5xx', async () => {
    for (const payload of ['"tenant"', '[1,2]', '42', 'null', 'true']) {
      const res = await load(h, signRaw(payload), QUERIES[0]);
      expect([res.status, payload]).toEqual([403, payload]);
    }
  });
});

describe('production', () => {
  let prod: Harness;
  beforeAll(async () => { prod = await openHarness({ env: { NODE_ENV: 'production', TESSERA_AUTH: 'password', TESSERA_PASSWORD: 'Prod pass word 9!' } }); });
  afterAll(async () => { await prod?.close(); });

  it('refuses a token without exp in production', async () => {
    const res = await request(prod.t.app).post('/cubejs-api/v1/load')
      .set('Authorization', signToken({ sub: 'x', tenant_id: 1 }, { expiresIn: null })).send({ query: QUERIES[0] });
    expect(res.status).toBe(403);
  });

  it('refuses a tokenless request in production', async () => {
    const res = await request(prod.t.app).post('/cubejs-api/v1/load').send({ query: QUERIES[0] });
    expect(res.status).toBe(403);
  });

  it('answers a token with exp in production with the tenant rows', async () => {
    const res = await request(prod.t.app).post('/cubejs-api/v1/load').set('Authorization', tenantToken(2)).send({ query: QUERIES[1] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(only(res.body, 'p_orders.count')).toBe(await truth(prod, 'select count(*) from orders where tenant_id = 2'));
  });
});
