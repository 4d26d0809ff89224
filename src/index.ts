/**
 * The `tessera` package entry: what a config file or an embedding app imports.
 */
export { AuthError, EngineError, ConfigError, ModelError, isEngineError, ERROR_CODES } from './errors/engine-error.js';
export type { ErrorCode, EngineErrorOptions } from './errors/engine-error.js';
export type { Config, ConfigHooks, JwtConfig } from './config/config.js';
export type { AuthResult, ApiScope } from './auth/auth-result.js';
export type { ApiKeyAuthenticator } from './auth/api-key-authenticator.js';
export type { AuthRequest, Authenticate } from './server/app-deps.js';
export type { SecurityContext, AccessPolicy, Model, Cube } from './schema/model.js';
export type { ValidatedQuery, FilterNode } from './query/validated-query.js';
export { createAuthenticator, type AuthenticatorDeps } from './auth/create-authenticator.js';
