/**
 * `tessera/client`: a dependency-free client for Tessera's (and Cube's) REST API,
 * for browsers and Node 20 on the global `fetch`.
 */
export { tessera, TesseraClient } from './tessera-client.js';
export type { TesseraOptions, CallOptions, LoadOptions, SqlQuery } from './tessera-client.js';
export { ResultSet } from './result-set.js';
export type { PivotConfig, ChartPivotRow, Series, SeriesName } from './result-set.js';
export type { TokenOrProvider, TokenProvider, TokenRequest } from './token-source.js';
export {
  TesseraError,
  TesseraHttpError,
  TesseraTokenError,
  TesseraNetworkError,
  TesseraResponseError,
} from './tessera-error.js';
export type { ClientErrorCode, TesseraErrorCode } from './tessera-error.js';
export type * from './wire-types.js';
