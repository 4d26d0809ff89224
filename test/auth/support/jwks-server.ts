/**
 * A JWKS endpoint on 127.0.0.1 with generated RSA and EC keys, for tests only.
 * Its key set can change at run time (rotation) and it can fail on demand.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export interface TestKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256' | 'PS256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Whether the published JWK names its alg (Cognito and Auth0 do). */
  readonly publishAlg: boolean;
}

export function generateKey(kid: string, alg: TestKey['alg'] = 'RS256', publishAlg = true): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publishAlg };
}

/** Signs `payload` with `key`, adding its kid; `header` adds (or overrides) header fields. */
export function signWith(
  key: TestKey,
  payload: object,
  options: { header?: Record<string, unknown>; alg?: string; kid?: string | null } = {},
): string {
  const header: Record<string, unknown> = { alg: options.alg ?? key.alg, typ: 'JWT', ...options.header };
  if (options.kid !== null) header.kid = options.kid ?? key.kid;
  return jwt.sign(payload, key.privateKey, {
    algorithm: (options.alg ?? key.alg) as jwt.Algorithm,
    header: header as unknown as jwt.JwtHeader,
    // A payload's own iat is kept; otherwise none is added, so tests control every claim.
    noTimestamp: !Object.hasOwn(payload, 'iat'),
  });
}

export interface JwksServer {
  readonly url: string;
  /** Base URL, for other paths (e.g. a `jku` target that must never be fetched). */
  readonly origin: string;
  /** Requests seen per path. */
  readonly hits: Map<string, number>;
  setKeys(keys: readonly TestKey[]): void;
  /** Answer every request with this status (e.g. 500), or `undefined` to serve keys again. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly TestKey[]): Promise<JwksServer> {
  let current = keys;
  let failure: number | undefined;
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failure !== undefined) {
      res.writeHead(failure, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    if (path !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    const body = {
      keys: current.map((k) => ({
        ...(k.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
        kid: k.kid,
        use: 'sig',
        ...(k.publishAlg ? { alg: k.alg } : {}),
      })),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/.well-known/jwks.json`,
    origin,
    hits,
    setKeys: (next) => {
      current = next;
    },
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
