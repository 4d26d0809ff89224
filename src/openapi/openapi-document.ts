/**
 * The OpenAPI 3.1 document, generated once from the zod schemas of the wire
 * query (`query/wire-query.ts`) and of the responses (`response-schemas.ts`).
 */
import { z } from 'zod';
import { wireQuerySchema } from '../query/wire-query.js';
import { packageVersionOf } from './package-version.js';
import {
  dryRunResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  loadResponseSchema,
  loadResultSchema,
  metaResponseSchema,
  sqlResponseSchema,
} from './response-schemas.js';

const SCHEMAS = {
  Query: wireQuerySchema,
  Error: errorResponseSchema,
  LoadResult: loadResultSchema,
  LoadResponse: loadResponseSchema,
  SqlResponse: sqlResponseSchema,
  DryRunResponse: dryRunResponseSchema,
  MetaResponse: metaResponseSchema,
  Health: healthResponseSchema,
} as const;

export type OpenApiSchemaName = keyof typeof SCHEMAS;

/** Every named schema as JSON Schema (2020-12, what OpenAPI 3.1 uses), referring to each other by `#/components/schemas/…`. */
export function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  // The recursive filter gets a name of its own, so the cycle is a reference between components.
  const filter = (wireQuerySchema.shape.filters.unwrap() as z.ZodArray).element;
  registry.add(filter as z.ZodType, { id: 'Filter' });
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema as z.ZodType, { id });
  const out = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  // Requests are described as they come in; responses as they go out.
  const input = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as typeof out;
  out.schemas.Query = input.schemas.Query!;
  out.schemas.Filter = input.schemas.Filter!;
  for (const schema of Object.values(out.schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return out.schemas;
}

const ref = (name: OpenApiSchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: OpenApiSchemaName, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const errors = {
  '400': json('Error', 'The query is not valid.'),
  '401': json('Error', 'No or bad credentials.'),
  '403': json('Error', 'Not allowed.'),
  '429': json('Error', 'Rate limited.'),
  '503': json('Error', 'The database is unavailable.'),
};
const queryParam = {
  name: 'query',
  in: 'query',
  required: true,
  description: 'The query as URL-encoded JSON (an array of queries for blending).',
  content: { 'application/json': { schema: { oneOf: [ref('Query'), { type: 'array', items: ref('Query') }] } } },
};
const queryBody = {
  required: true,
  content: { 'application/json': { schema: { type: 'object', required: ['query'], properties: { query: { oneOf: [ref('Query'), { type: 'array', items: ref('Query') }] }, queryType: { type: 'string', enum: ['multi'] } } } } },
};

function dataRoute(summary: string, response: OpenApiSchemaName, withPost: boolean) {
  const base = { tags: ['Cube REST API'], security: [{ bearer: [] }, { apiKey: [] }], responses: { '200': json(response, 'The answer.'), ...errors } };
  return {
    get: { ...base, summary, parameters: [queryParam, { name: 'queryType', in: 'query', schema: { type: 'string', enum: ['multi'] } }] },
    ...(withPost ? { post: { ...base, summary, requestBody: queryBody } } : {}),
  };
}

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Tessera', version: packageVersionOf(), description: "Cube's REST API, served by Tessera; fails closed." },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: {
      '/cubejs-api/v1/load': dataRoute('Runs a query and returns its rows.', 'LoadResponse', true),
      '/cubejs-api/v1/sql': dataRoute('Returns the parameterised SQL of a query.', 'SqlResponse', true),
      '/cubejs-api/v1/dry-run': dataRoute('Validates and normalises a query without running it.', 'DryRunResponse', true),
      '/cubejs-api/v1/meta': {
        get: { tags: ['Cube REST API'], summary: 'The cubes, views and members the caller may see.', security: [{ bearer: [] }, { apiKey: [] }], responses: { '200': json('MetaResponse', 'The model.'), ...errors } },
      },
      '/livez': { get: { tags: ['Operations'], summary: 'Liveness.', responses: { '200': json('Health', 'Alive.') } } },
      '/readyz': { get: { tags: ['Operations'], summary: 'Readiness (the database answers).', responses: { '200': json('Health', 'Ready.'), '503': json('Health', 'Not ready.') } } },
      '/metrics': {
        get: {
          tags: ['Operations'],
          summary: 'Prometheus metrics: loopback clients, or API keys with the metrics scope.',
          security: [{}, { apiKey: [] }],
          responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': json('Error', 'Not loopback and no key.'), '403': json('Error', 'The key lacks the metrics scope.') },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT in Authorization (with or without "Bearer ").' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
  return cached;
}
