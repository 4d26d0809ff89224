import { TesseraTokenError } from './tessera-error.js';

/** What the client tells a token provider about why it is asking. */
export interface TokenRequest {
  /** True when the server said the last token expired: a caching provider must fetch a new one. */
  readonly forceRefresh: boolean;
}

/** A function giving the token; called lazily, once per client call, and once more after expiry. */
export type TokenProvider = (request: TokenRequest) => string | Promise<string>;

/** A fixed token, a provider, or `null` for a server in dev mode (no Authorization header). */
export type TokenOrProvider = string | TokenProvider | null;

/**
 * Hands out tokens: a fixed string as is, a provider's answer with concurrent
 * callers sharing one pending provider call.
 */
export class TokenSource {
  readonly #token: TokenOrProvider;
  #pending: Promise<string> | undefined;
  #pendingIsRefresh = false;

  constructor(token: TokenOrProvider) {
    this.#token = token;
  }

  /** Whether asking again can give a different token (only a provider can). */
  get canRefresh(): boolean {
    return typeof this.#token === 'function';
  }

  /** The token to send now, or undefined when the client has none. */
  async get(forceRefresh = false): Promise<string | undefined> {
    const token = this.#token;
    if (token === null) return undefined;
    if (typeof token === 'string') return token;
    // A plain call may join a pending refresh, but a refresh must not reuse a plain call's answer.
    if (this.#pending !== undefined && (this.#pendingIsRefresh || !forceRefresh)) return this.#pending;
    const pending = callProvider(token, forceRefresh).finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    this.#pendingIsRefresh = forceRefresh;
    return pending;
  }
}

async function callProvider(provider: TokenProvider, forceRefresh: boolean): Promise<string> {
  let value: unknown;
  try {
    value = await provider({ forceRefresh });
  } catch (cause) {
    throw new TesseraTokenError('The token provider failed.', { cause });
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new TesseraTokenError(`The token provider returned ${describe(value)} instead of a non-empty string.`);
  }
  return value;
}

// Names the kind of value only, so a mistaken secret never lands in a message.
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === '') return 'an empty string';
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}
