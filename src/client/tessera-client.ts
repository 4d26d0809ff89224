import { ResultSet } from './result-set.js';
import { sendRequest, type RawResponse } from './send-request.js';
import { TesseraHttpError, TesseraNetworkError, TesseraResponseError } from './tessera-error.js';
import { TokenSource, type TokenOrProvider } from './token-source.js';
import type {
  DryRunResponse,
  LoadResponse,
  LoadResult,
  MetaResponse,
  Query,
  Row,
  SqlResponse,
} from './wire-types.js';

export interface TesseraOptions {
  /** The API base, e.g. `http://localhost:4000/cubejs-api/v1`. */
  readonly apiUrl: string;
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Abort one HTTP request after this many milliseconds. */
  readonly fetchTimeoutMs?: number;
  /** Aborts every request of this client. */
  readonly signal?: AbortSignal;
  /** Turn members annotated as `number` into JS numbers (default false: they stay strings). */
  readonly castNumerics?: boolean;
  /** Pause between "Continue wait" polls (default 200). */
  readonly pollIntervalMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Called each time the server answers "Continue wait". */
  readonly onContinueWait?: (poll: number) => void;
}

export interface LoadOptions extends CallOptions {
  readonly castNumerics?: boolean;
}

/** The SQL Tessera would run for a query: text with `$n` placeholders and the bound values. */
export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly response: SqlResponse;
}

const DEFAULT_POLL_INTERVAL_MS = 200;
const TOKEN_EXPIRED = 'ERR_AUTH_TOKEN_EXPIRED';

/** A Tessera (or Cube) REST API client with token providers, typed errors and "Continue wait" polling. */
export class TesseraClient {
  readonly #tokens: TokenSource;
  readonly #apiUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #fetchTimeoutMs: number | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #castNumerics: boolean;
  readonly #pollIntervalMs: number;

  constructor(tokenOrProvider: TokenOrProvider, options: TesseraOptions) {
    validateOptions(tokenOrProvider, options);
    this.#tokens = new TokenSource(tokenOrProvider);
    this.#apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.#headers = { ...options.headers };
    this.#fetchTimeoutMs = options.fetchTimeoutMs;
    this.#signal = options.signal;
    this.#castNumerics = options.castNumerics ?? false;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  /** Runs a query (or several, for Cube's blending) and returns its rows as a ResultSet. */
  async load(query: Query | readonly Query[], options: LoadOptions = {}): Promise<ResultSet> {
    const body = await this.#call('load', { query, queryType: 'multi' }, options);
    const response = readLoadResponse(body);
    return new ResultSet(options.castNumerics ?? this.#castNumerics ? castNumerics(response) : response);
  }

  /** The SQL and parameters a query compiles to, without running it. */
  async sql(query: Query, options: CallOptions = {}): Promise<SqlQuery> {
    const body = await this.#call('sql', { query }, options);
    const inner = isObject(body) && isObject(body['sql']) ? body['sql']['sql'] : undefined;
    if (!Array.isArray(inner) || typeof inner[0] !== 'string' || !Array.isArray(inner[1])) {
      throw new TesseraResponseError('The sql response has no [sql, params] pair.');
    }
    return { sql: inner[0], params: inner[1] as unknown[], response: body as unknown as SqlResponse };
  }

  /** The cubes and members visible to this token. */
  async meta(options: CallOptions = {}): Promise<MetaResponse> {
    const body = await this.#call('meta', {}, options);
    if (!isObject(body) || !Array.isArray(body['cubes'])) throw new TesseraResponseError('The meta response has no cubes.');
    return body as unknown as MetaResponse;
  }

  /** The normalised query and pivot query, without touching the database. */
  async dryRun(query: Query | readonly Query[], options: CallOptions = {}): Promise<DryRunResponse> {
    const body = await this.#call('dry-run', { query }, options);
    if (!isObject(body) || !Array.isArray(body['normalizedQueries'])) {
      throw new TesseraResponseError('The dry-run response has no normalizedQueries.');
    }
    return body as unknown as DryRunResponse;
  }

  // One API call: get a token, poll through "Continue wait", refresh once on an expired token.
  async #call(endpoint: string, params: Record<string, unknown>, options: CallOptions): Promise<Record<string, unknown>> {
    const signal = options.signal ?? this.#signal;
    const baseId = randomId();
    let token = await this.#tokens.get();
    let refreshed = false;
    for (let span = 1; ; span++) {
      throwIfAborted(signal, endpoint);
      const raw = await sendRequest({
        apiUrl: this.#apiUrl,
        endpoint,
        params,
        headers: this.#headers,
        token,
        requestId: `${baseId}-span-${span}`,
        fetchTimeoutMs: this.#fetchTimeoutMs,
        signal,
      });
      const body = parseBody(raw);
      if (isContinueWait(body)) {
        options.onContinueWait?.(span);
        await sleep(this.#pollIntervalMs, signal, endpoint);
        continue;
      }
      if (raw.status === 200) {
        if (body === undefined) throw new TesseraResponseError(`The ${endpoint} response is not JSON.`);
        if (!isObject(body)) throw new TesseraResponseError(`The ${endpoint} response is not a JSON object.`);
        return body;
      }
      const error = httpError(raw, body);
      if (error.code === TOKEN_EXPIRED && !refreshed && this.#tokens.canRefresh) {
        refreshed = true;
        token = await this.#tokens.get(true);
        continue;
      }
      throw error;
    }
  }
}

/** Creates a client: `tessera(token or provider, { apiUrl })`. */
export function tessera(tokenOrProvider: TokenOrProvider, options: TesseraOptions): TesseraClient {
  return new TesseraClient(tokenOrProvider, options);
}

// Caller misuse is a TypeError naming the option, raised once at construction.
function validateOptions(token: unknown, options: TesseraOptions | undefined): void {
  if (token !== null && typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('tessera: the first argument must be a token string, a token provider function, or null.');
  }
  if (!isObject(options)) throw new TypeError('tessera: options are required.');
  const { apiUrl, headers, fetchTimeoutMs, pollIntervalMs, castNumerics: cast, signal } = options;
  if (typeof apiUrl !== 'string' || (!/^https?:\/\//.test(apiUrl) && !apiUrl.startsWith('/'))) {
    throw new TypeError('tessera: option apiUrl must be an http(s) URL or an absolute path.');
  }
  if (headers !== undefined && (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))) {
    throw new TypeError('tessera: option headers must be an object of strings.');
  }
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (fetchTimeoutMs !== undefined && !positive(fetchTimeoutMs)) {
    throw new TypeError('tessera: option fetchTimeoutMs must be a positive number of milliseconds.');
  }
  if (pollIntervalMs !== undefined && !(positive(pollIntervalMs) || pollIntervalMs === 0)) {
    throw new TypeError('tessera: option pollIntervalMs must be zero or a positive number of milliseconds.');
  }
  if (cast !== undefined && typeof cast !== 'boolean') throw new TypeError('tessera: option castNumerics must be a boolean.');
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) {
    throw new TypeError('tessera: option signal must be an AbortSignal.');
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBody(raw: RawResponse): unknown {
  try {
    return JSON.parse(raw.text) as unknown;
  } catch {
    return undefined;
  }
}

// Cube sends "Continue wait" with status 200; the client accepts it at any status, as Cube's does.
const isContinueWait = (body: unknown): boolean =>
  isObject(body) && typeof body['error'] === 'string' && body['error'].includes('Continue wait');

function httpError(raw: RawResponse, body: unknown): TesseraHttpError {
  const message =
    isObject(body) && typeof body['error'] === 'string' ? body['error'] : `The server answered with status ${raw.status}.`;
  const code = isObject(body) && typeof body['code'] === 'string' ? body['code'] : 'ERR_CLIENT_HTTP_STATUS';
  const requestId = isObject(body) && typeof body['requestId'] === 'string' ? body['requestId'] : raw.requestId;
  return new TesseraHttpError(raw.status, code, message, body, requestId);
}

function readLoadResponse(body: Record<string, unknown>): LoadResponse {
  const results = body['results'];
  if (!Array.isArray(results) || typeof body['queryType'] !== 'string' || !isObject(body['pivotQuery'])) {
    throw new TesseraResponseError('The load response is not the multi envelope (queryType, results, pivotQuery).');
  }
  return { ...(body as unknown as LoadResponse), results: results.map((r: unknown) => toRows(r)) };
}

// Rebuilds row objects from the compact and columnar response formats, as Cube's client does.
function toRows(result: unknown): LoadResult {
  if (!isObject(result) || !isObject(result['query']) || !isObject(result['annotation'])) {
    throw new TesseraResponseError('A load result has no query or annotation.');
  }
  const typed = result as unknown as LoadResult;
  const data = result['data'];
  if (Array.isArray(data)) return typed;
  if (isObject(data) && Array.isArray(data['members'])) {
    const members = data['members'] as string[];
    if (Array.isArray(data['dataset'])) {
      const dataset = data['dataset'] as unknown[][];
      return { ...typed, data: dataset.map((r) => Object.fromEntries(members.map((m, i) => [m, r[i]])) as Row) };
    }
    if (Array.isArray(data['columns'])) {
      const columns = data['columns'] as unknown[][];
      const count = columns[0]?.length ?? 0;
      const rows: Row[] = [];
      for (let i = 0; i < count; i++) rows.push(Object.fromEntries(members.map((m, k) => [m, columns[k]?.[i]])) as Row);
      return { ...typed, data: rows };
    }
  }
  throw new TesseraResponseError('A load result has no rows.');
}

function castNumerics(response: LoadResponse): LoadResponse {
  return {
    ...response,
    results: response.results.map((result) => {
      const { measures, dimensions } = result.annotation;
      const numeric = Object.entries({ ...measures, ...dimensions })
        .filter(([, entry]) => entry.type === 'number')
        .map(([key]) => key);
      if (numeric.length === 0) return result;
      const data = result.data.map((row) => {
        const copy: Record<string, Row[string]> = { ...row };
        for (const key of numeric) {
          const value = copy[key];
          if (value !== null && value !== undefined) copy[key] = Number(value);
        }
        return copy;
      });
      return { ...result, data };
    }),
  };
}

function throwIfAborted(signal: AbortSignal | undefined, endpoint: string): void {
  if (signal?.aborted === true) throw new TesseraNetworkError('ERR_CLIENT_ABORTED', `The request to ${endpoint} was aborted.`);
}

function sleep(ms: number, signal: AbortSignal | undefined, endpoint: string): Promise<void> {
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TesseraNetworkError('ERR_CLIENT_ABORTED', `The request to ${endpoint} was aborted.`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// crypto.randomUUID needs a secure context in browsers; getRandomValues does not.
function randomId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
