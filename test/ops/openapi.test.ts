/**
 * /openapi.json is OpenAPI 3.1 generated from the zod schemas, and real answers
 * of the server (over HTTP, real PostgreSQL) conform to it.
 */
import cube from '@cubejs-client/core';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireQuerySchema } from '../../src/query/wire-query.js';
import { checkJsonSchema } from '../support/json-schema-check.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { userToken } from '../support/tokens.js';
import { listen } from '../client/live-server.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>; components: { schemas: Record<string, Record<string, unknown>> } };

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Doc;
  const token = userToken(42);

  beforeAll(async () => {
    t = await createTestApp();
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
  });
  afterAll(() => t.close());

  /** The JSON schema the document gives for `path`/`method` answering `status`. */
  const schemaFor = (path: string, method: string, status: string) => {
    const schema = doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`no schema for ${method} ${path} ${status}`);
    return schema;
  };
  const conforms = (body: unknown, path: string, method: string, status: string) => checkJsonSchema(body, schemaFor(path, method, status), doc);

  it('is OpenAPI 3.1 whose every reference resolves', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/([^"]+)/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });

  it('describes the query exactly as the zod wire schema does', () => {
    const query = doc.components.schemas.Query!;
    expect(Object.keys(query.properties as object).sort()).toEqual(Object.keys(wireQuerySchema.shape).sort());
    expect(query.additionalProperties).toBe(false);
  });

  it('a real /load answer, a multi answer and an error conform to the document', async () => {
    const q = { measures: ['Orders.count', 'Orders.totalAmount'], dimensions: ['Orders.status'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'month', dateRange: ['2023-01-01', '2023-03-31'] }], total: true };
    const load = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query: q });
    expect(load.status).toBe(200);
    expect(conforms(load.body, '/cubejs-api/v1/load', 'post', '200')).toEqual([]);

    const multi = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token)
      .send({ queryType: 'multi', query: { measures: ['Orders.count'], timeDimensions: [{ dimension: 'Orders.createdAt', granularity: 'year', compareDateRange: [['2023-01-01', '2023-12-31'], ['2024-01-01', '2024-12-31']] }] } });
    expect(multi.status).toBe(200);
    expect(conforms(multi.body, '/cubejs-api/v1/load', 'post', '200')).toEqual([]);

    const bad = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query: { measures: ['Nope.count'] } });
    expect(bad.status).toBe(400);
    expect(conforms(bad.body, '/cubejs-api/v1/load', 'post', '400')).toEqual([]);
    // The checker is not vacuous: a body the schema does not allow is reported.
    expect(conforms({ error: 1 }, '/cubejs-api/v1/load', 'post', '400')).not.toEqual([]);
    expect(conforms({ ...load.body, data: 'rows' }, '/cubejs-api/v1/load', 'post', '200')).not.toEqual([]);
  });

  it('real /sql, /dry-run, /meta and /readyz answers conform to the document', async () => {
    const q = JSON.stringify({ measures: ['Orders.count'], filters: [{ member: 'Orders.status', operator: 'equals', values: ['completed'] }] });
    const sql = await request(t.app).get('/cubejs-api/v1/sql').query({ query: q }).set('Authorization', token);
    expect(conforms(sql.body, '/cubejs-api/v1/sql', 'get', '200')).toEqual([]);
    const dry = await request(t.app).get('/cubejs-api/v1/dry-run').query({ query: q }).set('Authorization', token);
    expect(conforms(dry.body, '/cubejs-api/v1/dry-run', 'get', '200')).toEqual([]);
    const meta = await request(t.app).get('/cubejs-api/v1/meta').set('Authorization', token);
    expect(meta.body.cubes.length).toBeGreaterThan(0);
    expect(conforms(meta.body, '/cubejs-api/v1/meta', 'get', '200')).toEqual([]);
    const ready = await request(t.app).get('/readyz');
    expect(conforms(ready.body, '/readyz', 'get', '200')).toEqual([]);
  });

  it('queries the official @cubejs-client/core sends, and the answers it reads, conform to the document', async () => {
    const sent: unknown[] = [];
    const outer = express();
    outer.use((req, _res, next) => {
      if (typeof req.query.query === 'string') sent.push(JSON.parse(req.query.query));
      next();
    });
    outer.use(t.app);
    const server = await listen(outer);
    try {
      const api = cube(token, { apiUrl: server.apiUrl });
      const result = await api.load({ measures: ['Orders.count'], dimensions: ['Orders.status'], order: { 'Orders.count': 'desc' }, filters: [{ member: 'Orders.status', operator: 'equals', values: ['shipped'] }], limit: 10 });
      expect(result.rawData().length).toBe(1);
      expect(conforms(result.serialize().loadResponse, '/cubejs-api/v1/load', 'get', '200')).toEqual([]);
    } finally {
      await server.close();
    }
    expect(sent.length).toBeGreaterThan(0);
    for (const q of sent) expect(checkJsonSchema(q, { $ref: '#/components/schemas/Query' }, doc)).toEqual([]);
  });
});
