/**
 * The start-up check of `securityContextSchema` against the claims the model's row filters read,
 * so a misspelled claim (`tenantId` for `tenant_id`) stops start-up instead of refusing every query.
 */
import type { ConfigHooks } from '../config/config.js';
import { ConfigError } from '../errors/engine-error.js';
import type { Model } from '../schema/model.js';
import { claimLabel, modelClaims } from './security-filter-claims.js';

/** The top-level keys a zod object schema declares; undefined for schemas that are not plain objects. */
function declaredKeys(schema: NonNullable<ConfigHooks['securityContextSchema']>): ReadonlySet<string> | undefined {
  const shape = (schema as { shape?: unknown }).shape;
  if (shape === null || typeof shape !== 'object') return undefined;
  return new Set(Object.keys(shape));
}

/** Throws `ConfigError` naming the first claim a cube's `.filter()` reads that the schema does not declare. */
export function checkSchemaClaims(schema: ConfigHooks['securityContextSchema'], model: Model): void {
  if (schema === undefined) return;
  const declared = declaredKeys(schema);
  if (declared === undefined) return;
  for (const [cube, paths] of modelClaims(model)) {
    const missing = paths.find((p) => p[0] !== undefined && !declared.has(p[0]));
    if (missing !== undefined) {
      throw new ConfigError(
        'securityContextSchema',
        `cube ${cube} filters its rows by the claim ${claimLabel(missing)}, which the schema does not declare (declared: ${[...declared].join(', ') || 'none'})`,
      );
    }
  }
}
