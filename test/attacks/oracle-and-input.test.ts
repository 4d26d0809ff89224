/**
 * Class: learning that a hidden member exists, leaking through /sql, /dry-run and /meta, and
 * hostile input. A hidden or ungranted member answers exactly like an unknown one wherever it
 * appears; /sql and /dry-run show only the caller's values; no input gives a 5xx.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, openHarness, post, tenantToken, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => { h = await openHarness(); });
afterAll(async () => { await h?.close(); });

const tok = () => tenantToken(2);
type Q = Record<string, unknown>;

/** Every position a member name can take in a query. */
const positions = (m: string, isMeasure: boolean): Q[] => [
  isMeasure ? { measures: [m] } : { measures: ['p_orders.count'], dimensions: [m] },
  { measures: ['p_orders.count'], filters: [{ member: m, operator: 'set' }] },
  { measures: ['p_orders.count'], filters: [{ dimension: m, operator: 'equals', values: ['1'] }] },
  { measures: ['p_orders.count'], filters: [{ or: [{ and: [{ member: m, operator: 'notSet' }] }] }] },
  { measures: ['p_orders.count'], order: { [m]: 'asc' } },
  { measures: ['p_orders.count'], order: [[m, 'desc']] },
  { measures: ['p_orders.count'], segments: [m] },
  { measures: ['p_orders.count'], timeDimensions: [{ dimension: m, granularity: 'day' }] },
];

/** Replaces the member name so a hidden and an unknown member's answers can be compared. */
const normalise = (body: unknown, m: string) => JSON.parse(JSON.stringify(body).split(m).join('<M>')) as unknown;

describe('hidden and ungranted members are indistinguishable from unknown ones', () => {
  const ALL = [0, 1, 2, 3, 4, 5, 6, 7];
  const cases: [string, boolean, string, number[]][] = [
    ['p_orders.notes', false, 'an excluded dimension', ALL],
    ['p_orders.secret_amount', true, 'an excluded measure', ALL],
    ['p_orders.id', false, 'a hidden primary key', ALL],
    ['v_users.tenant_id', false, 'a view member outside its member_level', ALL],
    ['v_orders.o_notes', false, 'a view member whose cube member the cube policy excludes', ALL],
  ];
  for (const [member, isMeasure, what, at] of cases) {
    it(`answers ${what} (${member}) exactly like an unknown member in every position, on every route`, async () => {
      const unknown = `${member.split('.')[0]}.zz_${member.split('.')[1]}`;
      for (const [i, q] of positions(member, isMeasure).entries()) {
        if (!at.includes(i)) continue;
        for (const route of ['load', 'sql', 'dry-run'] as const) {
          const hidden = await post(h, route, tok(), q);
          const absent = await post(h, route, tok(), JSON.parse(JSON.stringify(q).split(member).join(unknown)) as Q);
          expect(hidden.status, `${route} #${i} ${JSON.stringify(hidden.body)}`).toBeGreaterThanOrEqual(400);
          expect(hidden.status).toBeLessThan(500);
          expect([hidden.status, normalise(hidden.body, member)], `${route} #${i}`).toEqual([absent.status, normalise(absent.body, unknown)]);
        }
      }
    });
  }

});

describe('/meta', () => {
  it('lists no hidden, excluded or policy-ungranted member', async () => {
    const res = await request(h.t.app).get('/cubejs-api/v1/meta').set('Authorization', tok());
    expect(res.status).toBe(200);
    const names = (res.body.cubes as { name: string; measures: { name: string }[]; dimensions: { name: string }[] }[])
      .flatMap((c) => [...c.measures, ...c.dimensions].map((m) => m.name));
    for (const m of ['p_orders.notes', 'p_orders.secret_amount', 'p_orders.id', 'v_users.tenant_id', 'u_users.id']) expect(names, m).not.toContain(m);
    // A view member whose cube member the cube's policy excludes is not listed either.
    for (const m of ['v_orders.o_notes', 'v_orders.o_secret_amount']) expect(names, m).not.toContain(m);
    expect(names).toContain('v_orders.o_count');
    expect(names).toContain('p_orders.count');
  });

  it('refuses /meta without credentials when a secret is configured', async () => {
    const res = await request(h.t.app).get('/cubejs-api/v1/meta');
    expect(res.status).toBe(403);
  });
});

describe('/sql and /dry-run', () => {
  it('show only the caller tenant as a parameter and nothing of other tenants', async () => {
    const q = { measures: ['p_orders.count', 's_orders.count'], dimensions: ['u_users.city'] };
    const res = await post(h, 'sql', tenantToken(3), { measures: ['u_items.count'], dimensions: ['u_users.city'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [sqlText, params] = res.body.sql.sql as [string, unknown[]];
    expect(params.map(String)).toEqual(['3']);
    expect(sqlText).not.toMatch(/tenant_id\s*=\s*\d/);
    const dry = await post(h, 'dry-run', tenantToken(3), q);
    expect(dry.status).toBeLessThan(500);
    expect(JSON.stringify(dry.body)).not.toMatch(/"tenant_id"\s*:\s*[1245]\b/);
  });

  it('never includes a claim value in the SQL text, even one shaped like SQL', async () => {
    const res = await post(h, 'sql', tenantToken("2' OR 'x'='x"), { measures: ['s_orders.count', 'p_orders.count'] });
    if (res.status === 200) expect(JSON.stringify(res.body.sql.sql[0])).not.toContain("'x'='x");
    else expect(res.status).toBeLessThan(500);
  });
});

describe('hostile input never gives a 5xx', () => {
  const SQLISH = ["'; DROP TABLE orders; --", '" OR 1=1 --', '$1', '\\', '%', '_', '\u0000', '\uD800', '1) OR (1=1', 'NaN', 'Infinity', '9'.repeat(400)];
  const bad: Q[] = [];
  for (const s of SQLISH) {
    bad.push(
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: 'equals', values: [s] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [s] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'gt', values: [s] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: 'contains', values: [s] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.created_at', operator: 'inDateRange', values: [s, s] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.created_at', operator: 'beforeDate', values: [s] }] },
      { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', granularity: s }] },
      { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', dateRange: s }] },
      { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', granularity: 'day', dateRange: [s, '2024-01-01'] }] },
      { measures: ['p_orders.count'], timezone: s },
      { measures: ['p_orders.count'], limit: s },
      { measures: ['p_orders.count'], offset: s },
      { measures: ['p_orders.count'], dimensions: ['p_orders.status'], order: { 'p_orders.status': s } },
      { measures: [`p_orders.${s}`] },
      { measures: [s] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: s, values: ['x'] }] },
      { measures: ['p_orders.count'], filters: [{ member: 'p_orders.count', operator: 'gt', values: [s] }] },
      { measures: ['p_orders.count'], responseFormat: s },
    );
  }
  for (const m of ['p_orders."status"', 'p_orders.status"', "p_orders.status'", 'p_orders.status--', '"p_orders".status', 'p_orders.status;', 'p_orders..status', 'p_orders', '.', 'p_orders.status.day', 'p_orders.created_at.day.x', '__proto__.count', 'constructor.prototype', 'p_orders.__proto__', 'p_orders.constructor', 'p_orders.toString', 'p_orders.hasOwnProperty']) {
    bad.push({ measures: [m] }, { measures: ['p_orders.count'], dimensions: [m] }, { measures: ['p_orders.count'], filters: [{ member: m, operator: 'set' }] });
  }
  bad.push(
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: 'equals', values: [null] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.status', operator: 'in', values: [null, 'completed'] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [1] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [{ a: 1 }] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [[1]] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: 'x' }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [] }] },
    { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'in', values: Array.from({ length: 70000 }, (_, i) => String(i)) }] },
    { measures: ['p_orders.count'], filters: [{ and: [] }] },
    { measures: ['p_orders.count'], filters: [{ or: [] }] },
    { measures: ['p_orders.count'], filters: [{ and: [{ member: 'p_orders.status', operator: 'set' }], or: [] }] },
    { measures: ['p_orders.count'], filters: [{}] },
    { measures: ['p_orders.count'], filters: {} },
    { measures: ['p_orders.count'], limit: -1 },
    { measures: ['p_orders.count'], limit: 1e308 },
    { measures: ['p_orders.count'], offset: 2 ** 63 },
    { measures: ['p_orders.count'], limit: 1.5 },
    { measures: ['p_orders.count'], dimensions: ['p_orders.status'], total: 'yes' },
    { measures: ['p_orders.count'], ungrouped: true },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', compareDateRange: [] }] },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', compareDateRange: ['x'] }] },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', dateRange: ['2024-02-30', '2024-13-01'] }] },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', dateRange: ['275760-09-14', '-271821-04-20'] }] },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', dateRange: 'last 99999999999 years' }] },
    { measures: ['p_orders.count'], timeDimensions: [{ dimension: 'p_orders.created_at', dateRange: 'from 1 to 2' }] },
    { measures: ['p_orders.count'], timezone: 'Mars/Olympus' },
    { measures: ['p_orders.count'], timezone: '+99:00' },
  );
  const deep = (n: number): Q => { let f: Q = { member: 'p_orders.status', operator: 'set' }; for (let i = 0; i < n; i++) f = { or: [f] }; return f; };
  bad.push({ measures: ['p_orders.count'], filters: [deep(30)] }, { measures: ['p_orders.count'], filters: [deep(3000)] });
  bad.push({ measures: ['p_orders.count'], filters: Array.from({ length: 5000 }, () => ({ member: 'p_orders.status', operator: 'equals', values: ['x'] })) });

  it(`answers ${bad.length} hostile queries with a JSON 2xx or 4xx, on /load, /sql and /dry-run`, async () => {
    const failures: string[] = [];
    for (const q of bad) {
      for (const route of ['load', 'sql', 'dry-run'] as const) {
        const res = await post(h, route, tok(), q);
        const ok = res.status < 500 && (res.status < 400 || (typeof res.body.error === 'string' && /^ERR_/.test(String(res.body.code))));
        if (!ok) failures.push(`${route} ${res.status} ${JSON.stringify(q).slice(0, 200)} -> ${JSON.stringify(res.body).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('never echoes a hostile value back into an error message', async () => {
    const marker = "zz'; DROP TABLE orders; --";
    const res = await load(h, tok(), { measures: ['p_orders.count'], filters: [{ member: 'p_orders.tenant_id', operator: 'equals', values: [marker] }] });
    expect(res.status).toBeLessThan(500);
    expect(JSON.stringify(res.body)).not.toContain('DROP TABLE');
  });

  it('keeps the tables after every injection attempt', async () => {
    expect(String((await h.db.query('select count(*) n from orders')).rows[0].n)).toBe('125000');
  });

  it('answers malformed query parameters and bodies with a 4xx', async () => {
    const app = h.t.app;
    const attempts = [
      request(app).get('/cubejs-api/v1/load?query=%7B').set('Authorization', tok()),
      request(app).get('/cubejs-api/v1/load?query=null').set('Authorization', tok()),
      request(app).get('/cubejs-api/v1/load?query=[]').set('Authorization', tok()),
      request(app).get('/cubejs-api/v1/load?query=1').set('Authorization', tok()),
      request(app).get('/cubejs-api/v1/load?query=a&query=b').set('Authorization', tok()),
      request(app).get('/cubejs-api/v1/load?query[measures]=p_orders.count').set('Authorization', tok()),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).set('Content-Type', 'application/json').send('{"query":'),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).send({ query: '{"measures":["p_orders.count"]' }),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).send({ query: { measures: ['p_orders.count'] }, queryType: 'bogus' }),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).send({ query: [], queryType: 'multi' }),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).send({ query: Array.from({ length: 500 }, () => ({ measures: ['p_orders.count'] })), queryType: 'multi' }),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).set('Content-Type', 'application/json').send(`{"query":${'['.repeat(5000)}${']'.repeat(5000)}}`),
      request(app).post('/cubejs-api/v1/load').set('Authorization', tok()).set('Content-Type', 'text/plain').send('query={}'),
    ];
    for (const [i, a] of attempts.entries()) {
      const res = await a;
      expect(res.status, `#${i} ${JSON.stringify(res.body)}`).toBeLessThan(500);
    }
  });
});
