/**
 * The claim checks shared by the HS256 and JWKS verifiers, and the mapping of
 * jsonwebtoken's errors onto ours.
 */
import jwt from 'jsonwebtoken';
import type { JwtConfig } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';
import { authErrors, isPlainObject } from './auth-errors.js';

export type ClaimOptions = Pick<jwt.VerifyOptions, 'issuer' | 'audience' | 'subject' | 'clockTolerance' | 'clockTimestamp'>;

/** jsonwebtoken rejects a token lacking a configured `iss`/`aud`/`sub`, as RFC 8725 asks. */
export function claimOptions(config: JwtConfig, nowMs: number): ClaimOptions {
  const options: ClaimOptions = {
    clockTolerance: config.clockToleranceSec,
    clockTimestamp: Math.floor(nowMs / 1000),
  };
  if (config.issuer?.length) options.issuer = [...config.issuer] as [string, ...string[]];
  if (config.audience?.length) options.audience = [...config.audience] as [string, ...string[]];
  if (config.subject) options.subject = config.subject;
  return options;
}

/** Cognito access tokens carry `client_id` and `token_use` instead of `aud`; ID tokens carry the client in `aud`. */
export function checkCognitoClaims(payload: unknown, config: JwtConfig): void {
  if (!isPlainObject(payload)) return;
  if (config.tokenUse !== undefined && payload.token_use !== config.tokenUse) {
    throw authErrors.invalidToken(`token_use is not ${config.tokenUse}`);
  }
  if (config.clientId?.length) {
    const client = payload.token_use === 'id' ? payload.aud : payload.client_id;
    if (typeof client !== 'string' || !config.clientId.includes(client)) {
      throw authErrors.invalidToken('client_id is not an accepted client');
    }
  }
}

export function mapJwtError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof jwt.TokenExpiredError) return authErrors.expired(error.message);
  if (error instanceof jwt.NotBeforeError) return authErrors.notYetValid(error.message);
  return authErrors.invalidToken(error instanceof Error ? error.message : error);
}
