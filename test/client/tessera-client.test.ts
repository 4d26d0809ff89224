/**
 * The client's own behaviour against a scripted server on 127.0.0.1: wire
 * format, token providers, refresh after expiry, "Continue wait", typed errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ResultSet,
  tessera,
  TesseraError,
  TesseraHttpError,
  TesseraNetworkError,
  TesseraResponseError,
  TesseraTokenError,
  type TokenRequest,
} from '../../src/client/index.js';
import { multiEnvelope, startScriptedServer, type RecordedRequest, type ScriptedServer } from './scripted-server.js';

const ORDERS_QUERY = { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.status'] };
const ORDERS_ANNOTATION = {
  measures: {
    'Orders.count': { title: 'Orders Count', shortTitle: 'Count', type: 'number' },
    'Orders.totalAmount': { title: 'Orders Total Amount', shortTitle: 'Total Amount', type: 'number' },
  },
  dimensions: { 'Orders.status': { title: 'Orders Status', shortTitle: 'Status', type: 'string' } },
  segments: {},
  timeDimensions: {},
};
const ORDERS_ROWS = [
  { 'Orders.status': 'completed', 'Orders.count': '12', 'Orders.totalAmount': '1034.50' },
  { 'Orders.status': 'shipped', 'Orders.count': '3', 'Orders.totalAmount': '99.90' },
];
const ordersEnvelope = (): unknown => multiEnvelope(ORDERS_ROWS, ORDERS_QUERY, ORDERS_ANNOTATION);

const servers: ScriptedServer[] = [];
async function serve(...args: Parameters<typeof startScriptedServer>): Promise<ScriptedServer> {
  const server = await startScriptedServer(...args);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const queryOf = (req: RecordedRequest): unknown =>
  req.method === 'GET' ? JSON.parse(req.searchParams.get('query') ?? 'null') : (JSON.parse(req.body) as { query: unknown }).query;

const expired = { status: 403, body: { error: 'Token expired', code: 'ERR_AUTH_TOKEN_EXPIRED' } };

describe('tessera client wire format', () => {
  it('loads with GET, the query as JSON, queryType multi and the raw token in Authorization', async () => {
    const server = await serve(() => ({ body: ordersEnvelope() }));
    const client = tessera('tok-1', { apiUrl: server.apiUrl });

    const result = await client.load(ORDERS_QUERY);

    const [req] = server.requests;
    expect(req?.method).toBe('GET');
    expect(req?.path).toBe('/cubejs-api/v1/load');
    expect(req?.searchParams.get('queryType')).toBe('multi');
    expect(queryOf(req!)).toEqual(ORDERS_QUERY);
    expect(req?.headers['authorization']).toBe('tok-1');
    expect(req?.headers['x-request-id']).toMatch(/^[0-9a-f-]+-span-1$/);
    expect(result).toBeInstanceOf(ResultSet);
    expect(result.rawData()).toEqual(ORDERS_ROWS);
  });

  it('keeps numbers as strings by default and casts number members when castNumerics is set', async () => {
    const server = await serve(() => ({ body: ordersEnvelope() }));
    const plain = await tessera('t', { apiUrl: server.apiUrl }).load(ORDERS_QUERY);
    const cast = await tessera('t', { apiUrl: server.apiUrl, castNumerics: true }).load(ORDERS_QUERY);
    const perCall = await tessera('t', { apiUrl: server.apiUrl }).load(ORDERS_QUERY, { castNumerics: true });

    expect(plain.rawData()[0]).toEqual({ 'Orders.status': 'completed', 'Orders.count': '12', 'Orders.totalAmount': '1034.50' });
    expect(cast.rawData()[0]).toEqual({ 'Orders.status': 'completed', 'Orders.count': 12, 'Orders.totalAmount': 1034.5 });
    expect(perCall.rawData()[1]).toEqual({ 'Orders.status': 'shipped', 'Orders.count': 3, 'Orders.totalAmount': 99.9 });
  });

  it('switches to POST with a JSON body when the GET URL would reach 2000 characters', async () => {
    const server = await serve(() => ({ body: ordersEnvelope() }));
    const longQuery = {
      ...ORDERS_QUERY,
      filters: [{ member: 'Orders.status', operator: 'equals' as const, values: Array.from({ length: 200 }, (_, i) => `status-${i}`) }],
    };

    await tessera('t', { apiUrl: server.apiUrl }).load(longQuery);

    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/cubejs-api/v1/load');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual({ query: longQuery, queryType: 'multi' });
  });

  it('sends no Authorization header when created with a null token (dev mode)', async () => {
    const server = await serve(() => ({ body: ordersEnvelope() }));
    await tessera(null, { apiUrl: server.apiUrl }).load(ORDERS_QUERY);
    expect(server.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('sends custom headers on every request', async () => {
    const server = await serve(() => ({ body: { cubes: [] } }));
    await tessera('t', { apiUrl: server.apiUrl, headers: { 'x-tenant-hint': 'blue' } }).meta();
    expect(server.requests[0]?.headers['x-tenant-hint']).toBe('blue');
  });

  it('rebuilds row objects from the compact response format', async () => {
    const compact = multiEnvelope([], { ...ORDERS_QUERY, responseFormat: 'compact' }, ORDERS_ANNOTATION) as {
      results: { data: unknown }[];
    };
    compact.results[0]!.data = {
      members: ['Orders.status', 'Orders.count', 'Orders.totalAmount'],
      dataset: [
        ['completed', '12', '1034.50'],
        ['shipped', '3', '99.90'],
      ],
    };
    const server = await serve(() => ({ body: compact }));
    const result = await tessera('t', { apiUrl: server.apiUrl }).load({ ...ORDERS_QUERY, responseFormat: 'compact' });
    expect(result.rawData()).toEqual(ORDERS_ROWS);
  });
});

describe('tessera client sql, meta and dryRun', () => {
  it('returns the SQL text and its bound parameters from /sql', async () => {
    const server = await serve(() => ({
      body: { sql: { sql: ['SELECT count(*) FROM orders WHERE user_id = $1', [42]], order: {} }, dataSource: 'default' },
    }));
    const sql = await tessera('t', { apiUrl: server.apiUrl }).sql({ measures: ['Orders.count'] });
    expect(server.requests[0]?.path).toBe('/cubejs-api/v1/sql');
    expect(queryOf(server.requests[0]!)).toEqual({ measures: ['Orders.count'] });
    expect(sql.sql).toBe('SELECT count(*) FROM orders WHERE user_id = $1');
    expect(sql.params).toEqual([42]);
  });

  it('returns the cubes from /meta', async () => {
    const server = await serve(() => ({ body: { cubes: [{ name: 'Orders', title: 'Orders', measures: [], dimensions: [], segments: [] }] } }));
    const meta = await tessera('t', { apiUrl: server.apiUrl }).meta();
    expect(server.requests[0]?.path).toBe('/cubejs-api/v1/meta');
    expect(meta.cubes.map((c) => c.name)).toEqual(['Orders']);
  });

  it('returns the normalised queries from /dry-run', async () => {
    const body = { queryType: 'regularQuery', normalizedQueries: [{ measures: ['Orders.count'] }], pivotQuery: {} };
    const server = await serve(() => ({ body }));
    const dry = await tessera('t', { apiUrl: server.apiUrl }).dryRun({ measures: ['Orders.count'] });
    expect(server.requests[0]?.path).toBe('/cubejs-api/v1/dry-run');
    expect(dry.normalizedQueries).toEqual([{ measures: ['Orders.count'] }]);
  });
});

describe('tessera client token providers', () => {
  it('calls the provider lazily, on the first request and not at construction', async () => {
    const server = await serve(() => ({ body: { cubes: [] } }));
    const calls: TokenRequest[] = [];
    const client = tessera(
      (request) => {
        calls.push(request);
        return 'lazy';
      },
      { apiUrl: server.apiUrl },
    );
    expect(calls).toEqual([]);
    await client.meta();
    expect(calls).toEqual([{ forceRefresh: false }]);
    expect(server.requests[0]?.headers['authorization']).toBe('lazy');
  });

  it('lets concurrent calls share one pending provider call', async () => {
    const server = await serve(() => ({ body: ordersEnvelope() }));
    let calls = 0;
    const waiting: ((token: string) => void)[] = [];
    const client = tessera(
      () => {
        calls++;
        return new Promise<string>((resolve) => waiting.push(resolve));
      },
      { apiUrl: server.apiUrl },
    );

    const pending = Promise.all([client.load(ORDERS_QUERY), client.load(ORDERS_QUERY), client.load(ORDERS_QUERY)]);
    await new Promise((r) => setImmediate(r));
    for (const release of waiting) release('shared');
    await pending;

    expect(calls).toBe(1);
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual(['shared', 'shared', 'shared']);
  });

  it('asks the provider again for the next call once the pending one settled', async () => {
    const server = await serve(() => ({ body: { cubes: [] } }));
    let n = 0;
    const client = tessera(async () => `tok-${++n}`, { apiUrl: server.apiUrl });
    await client.meta();
    await client.meta();
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual(['tok-1', 'tok-2']);
  });

  it('asks the provider for a fresh token and retries once when the server says the token expired', async () => {
    const server = await serve((req) => (req.headers['authorization'] === 'old' ? expired : { body: ordersEnvelope() }));
    const calls: TokenRequest[] = [];
    const client = tessera(
      (request) => {
        calls.push(request);
        return request.forceRefresh ? 'new' : 'old';
      },
      { apiUrl: server.apiUrl },
    );

    const result = await client.load(ORDERS_QUERY);

    expect(result.rawData()).toEqual(ORDERS_ROWS);
    expect(calls).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual(['old', 'new']);
  });

  it('gives up with the typed expiry error when the refreshed token is rejected as expired too', async () => {
    const server = await serve(() => expired);
    let calls = 0;
    const client = tessera(() => `tok-${++calls}`, { apiUrl: server.apiUrl });

    const error = await client.load(ORDERS_QUERY).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TesseraHttpError);
    expect(error).toMatchObject({ status: 403, code: 'ERR_AUTH_TOKEN_EXPIRED', message: 'Token expired' });
    expect(calls).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry an expired fixed string token', async () => {
    const server = await serve(() => expired);
    const error = await tessera('fixed', { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_AUTH_TOKEN_EXPIRED' });
    expect(server.requests).toHaveLength(1);
  });

  it('does not refresh on other auth failures such as an invalid token', async () => {
    const server = await serve(() => ({ status: 403, body: { error: 'Invalid token', code: 'ERR_AUTH_INVALID_TOKEN' } }));
    let calls = 0;
    const error = await tessera(() => `tok-${++calls}`, { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'ERR_AUTH_INVALID_TOKEN' });
    expect(calls).toBe(1);
  });

  it('turns a throwing provider into a TesseraTokenError without sending a request', async () => {
    const server = await serve(() => ({ body: { cubes: [] } }));
    const cause = new Error('login session gone');
    const error = await tessera(() => Promise.reject(cause), { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TesseraTokenError);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_TOKEN_PROVIDER', cause });
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['a number', 42, 'a value of type number'],
    ['undefined', undefined, 'a value of type undefined'],
    ['an empty string', '', 'an empty string'],
    ['an object', { token: 'x' }, 'a value of type object'],
  ])('turns a provider returning %s into a TesseraTokenError', async (_label, value, described) => {
    const server = await serve(() => ({ body: { cubes: [] } }));
    const provider = (() => value) as unknown as () => string;
    const error = await tessera(provider, { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraTokenError);
    expect((error as Error).message).toBe(`The token provider returned ${described} instead of a non-empty string.`);
    expect(server.requests).toHaveLength(0);
  });

  it('turns a refresh provider failure into a TesseraTokenError', async () => {
    const server = await serve(() => expired);
    const client = tessera(
      (request) => {
        if (request.forceRefresh) throw new Error('backend down');
        return 'old';
      },
      { apiUrl: server.apiUrl },
    );
    const error = await client.meta().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraTokenError);
    expect(server.requests).toHaveLength(1);
  });
});

describe('tessera client Continue wait', () => {
  it('polls with the same request until the result is ready, numbering request-id spans', async () => {
    const server = await serve((_req, i) => (i < 2 ? { body: { error: 'Continue wait' } } : { body: ordersEnvelope() }));
    const polls: number[] = [];
    let providerCalls = 0;
    const client = tessera(
      () => {
        providerCalls++;
        return 'tok';
      },
      { apiUrl: server.apiUrl, pollIntervalMs: 0 },
    );

    const result = await client.load(ORDERS_QUERY, { onContinueWait: (n) => polls.push(n) });

    expect(result.rawData()).toEqual(ORDERS_ROWS);
    expect(polls).toEqual([1, 2]);
    expect(providerCalls).toBe(1);
    expect(server.requests.map((r) => queryOf(r))).toEqual([ORDERS_QUERY, ORDERS_QUERY, ORDERS_QUERY]);
    const ids = server.requests.map((r) => String(r.headers['x-request-id']));
    const base = ids[0]!.replace(/-span-1$/, '');
    expect(ids).toEqual([`${base}-span-1`, `${base}-span-2`, `${base}-span-3`]);
  });

  it('stops polling with ERR_CLIENT_ABORTED when the caller aborts', async () => {
    const server = await serve(() => ({ body: { error: 'Continue wait' } }));
    const controller = new AbortController();
    const client = tessera('t', { apiUrl: server.apiUrl, pollIntervalMs: 0 });
    const error = await client
      .load(ORDERS_QUERY, {
        signal: controller.signal,
        onContinueWait: (n) => {
          if (n === 3) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraNetworkError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_ABORTED' });
    expect(server.requests).toHaveLength(3);
  });
});

describe('tessera client errors', () => {
  it('raises a TesseraHttpError carrying status, server code, message and request id', async () => {
    const server = await serve(() => ({
      status: 400,
      body: { error: "Unknown member 'Orders.nope'.", code: 'ERR_QUERY_UNKNOWN_MEMBER', requestId: 'req-9' },
    }));
    const error = await tessera('t', { apiUrl: server.apiUrl }).load({ measures: ['Orders.nope'] }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TesseraHttpError);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'TesseraHttpError',
      status: 400,
      code: 'ERR_QUERY_UNKNOWN_MEMBER',
      message: "Unknown member 'Orders.nope'.",
      requestId: 'req-9',
    });
  });

  it('uses ERR_CLIENT_HTTP_STATUS when an error body has no code', async () => {
    const server = await serve(() => ({ status: 502, body: '<html>bad gateway</html>' }));
    const error = await tessera('t', { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'ERR_CLIENT_HTTP_STATUS', message: 'The server answered with status 502.' });
  });

  it('raises a TesseraResponseError for a 200 answer that is not JSON', async () => {
    const server = await serve(() => ({ body: 'not json' }));
    const error = await tessera('t', { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraResponseError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_BAD_RESPONSE' });
  });

  it('raises a TesseraResponseError for a bare single result instead of the multi envelope', async () => {
    const single = (ordersEnvelope() as { results: unknown[] }).results[0];
    const server = await serve(() => ({ body: single }));
    const error = await tessera('t', { apiUrl: server.apiUrl }).load(ORDERS_QUERY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraResponseError);
  });

  it('raises ERR_CLIENT_TIMEOUT when an answer takes longer than fetchTimeoutMs', async () => {
    const server = await serve(() => ({ hang: true }));
    const error = await tessera('t', { apiUrl: server.apiUrl, fetchTimeoutMs: 50 }).meta().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraNetworkError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_TIMEOUT' });
  });

  it('raises ERR_CLIENT_ABORTED when the client-wide signal aborts a request in flight', async () => {
    const controller = new AbortController();
    const server = await serve(() => {
      controller.abort();
      return { hang: true };
    });
    const error = await tessera('t', { apiUrl: server.apiUrl, signal: controller.signal }).meta().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_ABORTED' });
  });

  it('raises ERR_CLIENT_NETWORK when nothing listens at the URL', async () => {
    const server = await serve(() => ({ body: {} }));
    const apiUrl = server.apiUrl;
    await server.close();
    const error = await tessera('t', { apiUrl }).meta().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraNetworkError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_NETWORK' });
  });

  it('never puts the token in an error message', async () => {
    const secret = 'eyJ.secret-token.sig';
    const server = await serve(() => ({ status: 403, body: { error: 'Invalid token', code: 'ERR_AUTH_INVALID_TOKEN' } }));
    const error = (await tessera(secret, { apiUrl: server.apiUrl }).meta().catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(secret);
  });
});

describe('tessera client options', () => {
  it.each([
    ['apiUrl', { apiUrl: 'localhost:4000' }],
    ['headers', { apiUrl: 'http://x', headers: { a: 1 } }],
    ['fetchTimeoutMs', { apiUrl: 'http://x', fetchTimeoutMs: -1 }],
    ['pollIntervalMs', { apiUrl: 'http://x', pollIntervalMs: Number.NaN }],
    ['castNumerics', { apiUrl: 'http://x', castNumerics: 'yes' }],
    ['signal', { apiUrl: 'http://x', signal: {} }],
  ])('rejects a bad %s at construction with a TypeError naming it', (option, options) => {
    expect(() => tessera('t', options as never)).toThrow(new RegExp(`option ${option}`));
    expect(() => tessera('t', options as never)).toThrow(TypeError);
  });

  it('rejects a token that is neither a string, a function nor null', () => {
    expect(() => tessera(42 as never, { apiUrl: 'http://x' })).toThrow(TypeError);
  });
});
