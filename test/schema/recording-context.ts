/**
 * A minimal SqlRenderContext for loader tests: cubes and members render as quoted names,
 * parameters as `$n`, and every bound value is recorded in order.
 */
import type { FilterParamRef, SecurityContext, SqlRenderContext } from '../../src/schema/model.js';

export interface Recording {
  readonly ctx: SqlRenderContext;
  readonly params: unknown[];
}

export function recordingContext(
  securityContext: SecurityContext = {},
  extra: { filterParam?: SqlRenderContext['filterParam']; filterGroup?: (items: readonly FilterParamRef[]) => string; convertTz?: (sql: string) => string } = {},
): Recording {
  const params: unknown[] = [];
  const ctx: SqlRenderContext = {
    securityContext,
    cubeRef: (cube) => `"${cube}"`,
    memberRef: (cube, member) => `{${cube}.${member}}`,
    param: (value) => {
      params.push(value);
      return `$${params.length}`;
    },
    ...extra,
  };
  return { ctx, params };
}
