import { TesseraNetworkError } from './tessera-error.js';

/** Cube's client switches from GET to POST at this URL length; so do we. */
export const MAX_GET_URL_LENGTH = 2000;

export interface RequestSpec {
  readonly apiUrl: string;
  /** `load`, `sql`, `meta`, `dry-run` */
  readonly endpoint: string;
  /** Object values are sent as JSON, like Cube's client. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly token: string | undefined;
  readonly requestId: string;
  readonly fetchTimeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface RawResponse {
  readonly status: number;
  readonly text: string;
  readonly requestId: string | undefined;
}

/** One HTTP round trip: GET with `?query=<json>`, or POST when the URL would be too long. */
export async function sendRequest(spec: RequestSpec): Promise<RawResponse> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(spec.params)) {
    if (value !== undefined) search.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const base = `${spec.apiUrl}/${spec.endpoint}`;
  const query = search.toString();
  const getUrl = query.length > 0 ? `${base}?${query}` : base;
  const usePost = getUrl.length >= MAX_GET_URL_LENGTH;

  const headers: Record<string, string> = { 'x-request-id': spec.requestId, ...spec.headers };
  if (spec.token !== undefined) headers['Authorization'] = spec.token;
  if (usePost) headers['Content-Type'] = 'application/json';

  const abort = linkAbort(spec.signal, spec.fetchTimeoutMs);
  try {
    const response = await fetch(usePost ? base : getUrl, {
      method: usePost ? 'POST' : 'GET',
      headers,
      body: usePost ? JSON.stringify(spec.params) : null,
      signal: abort.signal,
    });
    const text = await response.text();
    return { status: response.status, text, requestId: response.headers.get('x-request-id') ?? undefined };
  } catch (cause) {
    if (abort.timedOut()) {
      throw new TesseraNetworkError('ERR_CLIENT_TIMEOUT', `The request to ${spec.endpoint} timed out.`, { cause });
    }
    if (spec.signal?.aborted === true) {
      throw new TesseraNetworkError('ERR_CLIENT_ABORTED', `The request to ${spec.endpoint} was aborted.`, { cause });
    }
    throw new TesseraNetworkError('ERR_CLIENT_NETWORK', `The request to ${spec.endpoint} failed to reach the server.`, {
      cause,
    });
  } finally {
    abort.dispose();
  }
}

interface LinkedAbort {
  readonly signal: AbortSignal | undefined;
  timedOut(): boolean;
  dispose(): void;
}

// Combines the caller's signal with a per-request timeout without AbortSignal.any, which older browsers lack.
function linkAbort(signal: AbortSignal | undefined, timeoutMs: number | undefined): LinkedAbort {
  if (timeoutMs === undefined) return { signal, timedOut: () => false, dispose: () => {} };
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted === true) controller.abort(signal.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
