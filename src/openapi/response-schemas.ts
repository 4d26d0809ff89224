/**
 * zod schemas of what Tessera answers. `/openapi.json` is generated from them,
 * and tests parse real responses with them, so the document cannot drift from the server.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors/engine-error.js';

export const errorResponseSchema = z
  .object({
    error: z.string().describe('One sentence; never contains tokens, parameters or SQL.'),
    code: z.enum(ERROR_CODES).optional(),
    requestId: z.string().optional(),
  });

const annotationEntry = z.looseObject({ title: z.string(), shortTitle: z.string(), type: z.string() });

export const loadResultSchema = z
  .looseObject({
    query: z.record(z.string(), z.unknown()),
    data: z.union([z.array(z.record(z.string(), z.unknown())), z.looseObject({ members: z.array(z.string()) })]),
    lastRefreshTime: z.string(),
    annotation: z.object({
      measures: z.record(z.string(), annotationEntry),
      dimensions: z.record(z.string(), annotationEntry),
      segments: z.record(z.string(), annotationEntry),
      timeDimensions: z.record(z.string(), annotationEntry),
    }),
    dataSource: z.string(),
    dbType: z.string(),
    total: z.number().int().nullable(),
  });

export const loadResponseSchema = z
  .union([
    loadResultSchema,
    z.object({
      queryType: z.enum(['regularQuery', 'compareDateRangeQuery', 'blendingQuery']),
      results: z.array(loadResultSchema),
      pivotQuery: z.record(z.string(), z.unknown()),
      slowQuery: z.boolean(),
    }),
  ]);

const sqlEntry = z.looseObject({
  sql: z.tuple([z.string(), z.array(z.unknown())]).describe('The parameterised SQL and its parameters.'),
  order: z.record(z.string(), z.enum(['asc', 'desc'])),
  dataSource: z.string(),
  aliasNameToMember: z.record(z.string(), z.string()),
  memberNames: z.array(z.string()),
});

export const sqlResponseSchema = z
  .union([z.object({ sql: sqlEntry }), z.array(z.object({ sql: sqlEntry, dataSource: z.string() }))]);

export const dryRunResponseSchema = z
  .object({
    queryType: z.enum(['regularQuery', 'compareDateRangeQuery', 'blendingQuery']),
    normalizedQueries: z.array(z.record(z.string(), z.unknown())),
    queryOrder: z.array(z.record(z.string(), z.enum(['asc', 'desc']))),
    transformedQueries: z.array(z.null()),
    pivotQuery: z.record(z.string(), z.unknown()),
  });

const metaMember = z.looseObject({ name: z.string(), title: z.string(), shortTitle: z.string(), type: z.string(), isVisible: z.boolean(), public: z.boolean() });
const metaSegment = z.looseObject({ name: z.string(), title: z.string(), shortTitle: z.string(), isVisible: z.boolean(), public: z.boolean() });

export const metaResponseSchema = z
  .object({
    cubes: z.array(
      z.looseObject({
        name: z.string(),
        title: z.string(),
        type: z.enum(['cube', 'view']),
        measures: z.array(metaMember),
        dimensions: z.array(metaMember),
        segments: z.array(metaSegment),
      }),
    ),
  });

export const healthResponseSchema = z.object({ health: z.enum(['HEALTH', 'DOWN']) });
