/**
 * `securityContextSchema`: the operator's zod schema for the context's shape.
 */
import type { ConfigHooks } from '../config/config.js';
import type { SecurityContext } from '../schema/model.js';
import { authErrors } from './auth-errors.js';

interface Issue {
  readonly path?: readonly PropertyKey[];
  readonly message?: string;
}

/**
 * Validates only: the context is not replaced by the parse output, so keys the
 * schema does not list (iat, exp, …) stay available to the model.
 */
export function checkContextSchema(schema: ConfigHooks['securityContextSchema'], context: SecurityContext): void {
  if (schema === undefined) return;
  let result: ReturnType<NonNullable<ConfigHooks['securityContextSchema']>['safeParse']>;
  try {
    result = schema.safeParse(context);
  } catch (cause) {
    throw authErrors.contextInvalid('The security context could not be checked against securityContextSchema', cause);
  }
  if (result.success) return;
  const issue = (result.error as { issues?: readonly Issue[] } | undefined)?.issues?.[0];
  const path = issue?.path?.map(String).join('.') ?? '';
  const detail = issue?.message ?? 'does not match securityContextSchema';
  throw authErrors.contextInvalid(
    path === '' ? `The security context is invalid: ${detail}` : `Security context claim ${path} is invalid: ${detail}`,
  );
}
