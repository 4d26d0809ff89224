/**
 * Runs after authentication on the query API: checks the request's budgets
 * before anything is planned, and builds the statement scope every database
 * call of the request runs in (`res.locals.statementScope`): an abort signal
 * that fires when the client hangs up or the request deadline passes, the
 * caller's fairness key, and the request's timing.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { perCaller, type AuthResult } from '../auth/auth-result.js';
import type { Config } from '../config/config.js';
import type { StatementScope } from '../db/statement-scope.js';
import type { RequestTiming } from '../metrics/request-timing.js';
import { EngineError } from '../errors/engine-error.js';
import { checkQueryBudgets, DEFAULT_BUDGETS } from '../query/check-budgets.js';
import { decodeQueryParam } from '../query/wire-query.js';

/** Used when the config (hand-built in some tests) sets no request deadline. */
const DEFAULT_REQUEST_TIMEOUT_MS = 65_000;

/** Claims that differ between two tokens for the same caller, so they do not make a new context. */
const PER_TOKEN_CLAIMS = new Set(['iat', 'exp', 'nbf', 'jti']);

const contextKeyOf = perCaller((auth) => contextKey(auth));

/** One key per distinct security context: the same claims in any key order share it, whichever token carried them. */
export function tenantKeyOf(auth: AuthResult | undefined): string {
  return auth === undefined ? contextKey(undefined) : contextKeyOf(auth);
}

function contextKey(auth: AuthResult | undefined): string {
  const context = Object.fromEntries(Object.entries(auth?.securityContext ?? {}).filter(([k]) => !PER_TOKEN_CLAIMS.has(k)));
  return createHash('sha256').update(canonicalJson(context)).digest('hex').slice(0, 32);
}

/** A literal piece of output on the walk's stack (brackets, commas, `"key":`). */
class Text {
  constructor(readonly text: string) {}
}

/** JSON with object keys sorted at every level, built iteratively (contexts come from tokens). */
function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof Text) {
      out.push(v.text);
    } else if (Array.isArray(v)) {
      out.push('[');
      stack.push(new Text(']'));
      for (let i = v.length - 1; i >= 0; i -= 1) {
        stack.push(v[i]);
        if (i > 0) stack.push(new Text(','));
      }
    } else if (typeof v === 'object' && v !== null) {
      out.push('{');
      stack.push(new Text('}'));
      const keys = Object.keys(v).sort();
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        stack.push((v as Record<string, unknown>)[keys[i]!]);
        stack.push(new Text(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}

/** The `query` parameter of GET (query string) or POST (JSON body). */
function rawQueryParam(req: Parameters<RequestHandler>[0]): unknown {
  if (req.method === 'GET') return (req.query as Record<string, unknown>)['query'];
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? body['query'] : undefined;
}

export function createRequestGuard(config: Config): RequestHandler {
  const budgets = config.budgets ?? DEFAULT_BUDGETS;
  const requestTimeoutMs = config.server?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return (req, res, next) => {
    const raw = rawQueryParam(req);
    if (raw !== undefined) {
      let decoded: unknown;
      try {
        decoded = decodeQueryParam(raw);
      } catch {
        // The pipeline reports a missing or undecodable query itself.
        decoded = undefined;
      }
      try {
        checkQueryBudgets(decoded, budgets, { defaultLimit: config.query.defaultLimit });
      } catch (err) {
        next(err);
        return;
      }
    }
    const controller = new AbortController();
    const deadline = setTimeout(() => {
      controller.abort(new EngineError('ERR_DB_TIMEOUT', `The query did not finish within the request time limit of ${requestTimeoutMs} ms.`));
    }, requestTimeoutMs);
    deadline.unref();
    onResponseDone(res, (finished) => {
      clearTimeout(deadline);
      if (!finished) controller.abort(new EngineError('ERR_BAD_REQUEST', 'The client closed the request before the answer was ready.'));
    });
    const scope: StatementScope = {
      signal: controller.signal,
      tenantKey: tenantKeyOf(res.locals.auth as AuthResult | undefined),
      timing: res.locals.timing as RequestTiming | undefined,
    };
    res.locals.statementScope = scope;
    next();
  };
}

/** Calls `fn(true)` once the response is sent, or `fn(false)` when the connection closes first. */
function onResponseDone(res: Response, fn: (finished: boolean) => void): void {
  res.once('close', () => fn(res.writableFinished));
}
