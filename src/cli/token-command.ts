/**
 * `tessera token`: prints an HS256 token for development and tests, like
 * `cubejs token`, but with JSON values and dotted keys that nest.
 */
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';

export interface TokenCommandIo {
  /** The token alone goes here, so `TOKEN=$(tessera token …)` works. */
  readonly stdout: (text: string) => void;
  /** Notes, warnings and errors. */
  readonly stderr: (text: string) => void;
}

export const TOKEN_HELP = `Usage: tessera token [options]

Prints a JWT signed with HS256 for Tessera's /cubejs-api endpoints.

Options:
  -e, --expiry <time>    Lifetime: 30d, 12h, "30 days", or a number of seconds.
                         0 means the token never expires. Default: 30d.
  -s, --secret <secret>  The HS256 secret. Default: CUBEJS_API_SECRET (alias
                         TESSERA_API_SECRET), else the first of CUBEJS_API_SECRETS.
  -p, --payload <k=v>    A claim; repeat for more. The value is used as JSON when
                         it parses as JSON (42, true, null, ["admin"], {"a":1}),
                         else as a string. Dotted keys nest: -p u.id=42 gives
                         {"u":{"id":42}}.
  -h, --help             Shows this help.

Example:
  tessera token -e 30d -s SECRET -p user_id=42 -p u.id=42 -p roles='["admin"]'

The token is printed alone on stdout; the payload and notes go to stderr.
Hand-made tokens are for development: in production, issue them from your
own server after your users log in.`;

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

class UsageError extends Error {}

/**
 * Runs the command and returns the exit code (0 printed a token, 2 a usage error).
 * `env` is the only source of the default secret; `clock` gives `iat` in ms.
 */
export function runTokenCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: TokenCommandIo,
  clock: () => number = Date.now,
): number {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        expiry: { type: 'string', short: 'e' },
        secret: { type: 'string', short: 's' },
        payload: { type: 'string', short: 'p', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(`${TOKEN_HELP}\n`);
      return 0;
    }
    const secret = values.secret ?? defaultSecret(env);
    if (secret === undefined || secret === '') {
      throw new UsageError('No secret: pass -s SECRET or set CUBEJS_API_SECRET.');
    }
    const payload = buildPayload(values.payload ?? []);
    const expiry = values.expiry ?? (Object.hasOwn(payload, 'exp') ? '0' : '30d');
    const expiresIn = parseExpiry(expiry);
    if (expiresIn !== undefined && Object.hasOwn(payload, 'exp')) {
      throw new UsageError('The payload sets exp and --expiry sets it too; use one of them.');
    }
    if (!Object.hasOwn(payload, 'iat')) payload.iat = Math.floor(clock() / 1000);

    let token: string;
    try {
      const options: jwt.SignOptions = { algorithm: 'HS256' };
      if (expiresIn !== undefined) options.expiresIn = expiresIn as NonNullable<jwt.SignOptions['expiresIn']>;
      token = jwt.sign(payload, secret, options);
    } catch (error) {
      throw new UsageError(`Cannot sign the token: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (Buffer.byteLength(secret, 'utf8') < 32) {
      io.stderr('Warning: the secret is shorter than 32 bytes; use a long random secret outside development.\n');
    }
    io.stderr(`Payload: ${JSON.stringify(payload)}\nExpires in: ${expiresIn === undefined ? 'never' : expiry}\n`);
    io.stdout(`${token}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`tessera token: ${message}\nRun "tessera token --help" for the options.\n`);
    return 2;
  }
}

function defaultSecret(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const single = env.CUBEJS_API_SECRET || env.TESSERA_API_SECRET;
  if (single) return single;
  const list = env.CUBEJS_API_SECRETS || env.TESSERA_API_SECRETS;
  return list
    ?.split(',')
    .map((s) => s.trim())
    .find((s) => s !== '');
}

/** `0` is no expiry; digits are seconds (jsonwebtoken would read a digit string as milliseconds). */
function parseExpiry(text: string): string | number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^\d+(\.\d+)?\s*[a-zA-Z]+$/.test(trimmed)) {
    throw new UsageError(`Invalid --expiry ${JSON.stringify(text)}: use forms like 30d, 12h, "30 days" or seconds.`);
  }
  return trimmed;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Builds the claims from `key=value` pairs; dotted keys nest, conflicts are errors. */
export function buildPayload(pairs: readonly string[]): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  const assigned = new Set<string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`Invalid --payload ${JSON.stringify(pair)}: use key=value.`);
    const key = pair.slice(0, eq);
    const path = key.split('.');
    if (path.some((p) => p === '' || FORBIDDEN_KEYS.has(p))) {
      throw new UsageError(`Invalid --payload key ${JSON.stringify(key)}.`);
    }
    if (assigned.has(key)) throw new UsageError(`The payload key ${key} is given twice.`);
    let target = payload;
    for (const [i, part] of path.slice(0, -1).entries()) {
      const next = target[part];
      if (next === undefined) {
        const child: Record<string, unknown> = {};
        target[part] = child;
        target = child;
      } else if (next !== null && typeof next === 'object' && !Array.isArray(next) && !assigned.has(path.slice(0, i + 1).join('.'))) {
        target = next as Record<string, unknown>;
      } else {
        throw new UsageError(`The payload key ${key} conflicts with ${path.slice(0, i + 1).join('.')}.`);
      }
    }
    const last = path[path.length - 1] as string;
    if (Object.hasOwn(target, last)) throw new UsageError(`The payload key ${key} conflicts with another key.`);
    target[last] = parseValue(pair.slice(eq + 1));
    assigned.add(key);
  }
  return payload;
}
