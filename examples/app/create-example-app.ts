/**
 * The example app's backend: its own login with a session cookie, a protected
 * route that mints a short-lived Tessera token for the logged-in user (as in
 * Cube's security docs), the static page, and a same-origin pass-through to
 * Tessera so the browser needs no CORS setup.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import jwt from 'jsonwebtoken';
import { DEMO_USERS, UserStore, type DemoUser } from './demo-users.js';
import { bundleClient } from './bundle-client.js';

export interface ExampleAppOptions {
  /** Where Tessera listens, e.g. `http://127.0.0.1:4000`. */
  readonly tesseraUrl: string;
  /** The HS256 secret Tessera verifies tokens with (CUBEJS_API_SECRET). */
  readonly apiSecret: string;
  /** Lifetime of minted tokens, in jsonwebtoken's format (`'15m'`) or seconds. */
  readonly tokenExpiresIn?: string | number;
  /** Lifetime of a login session in milliseconds (default 8 hours). */
  readonly sessionTtlMs?: number;
}

const SESSION_COOKIE = 'example_session';
const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
// Request headers the pass-through forwards; cookies stay with the example app.
const FORWARDED_HEADERS = ['authorization', 'content-type', 'x-request-id', 'traceparent'] as const;

interface Session {
  readonly username: string;
  readonly expiresAt: number;
}

export function createExampleApp(options: ExampleAppOptions): express.Express {
  const { tesseraUrl, apiSecret } = validate(options);
  const tokenExpiresIn = options.tokenExpiresIn ?? '15m';
  const sessionTtlMs = options.sessionTtlMs ?? 8 * 60 * 60 * 1000;
  const users = new UserStore(DEMO_USERS);
  const sessions = new Map<string, Session>();

  const currentUser = (req: Request): DemoUser | undefined => {
    const id = readCookie(req, SESSION_COOKIE);
    const session = id === undefined ? undefined : sessions.get(id);
    if (id === undefined || session === undefined) return undefined;
    if (session.expiresAt <= Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    return users.get(session.username);
  };

  const requireUser = (req: Request, res: Response, next: NextFunction): void => {
    const user = currentUser(req);
    if (user === undefined) {
      res.status(401).json({ error: 'Log in first.' });
      return;
    }
    res.locals.user = user;
    next();
  };

  const app = express();
  app.disable('x-powered-by');
  // The page is plain HTML and a module script; helmet's upgrade rule would break plain-http localhost.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));

  app.post('/login', express.json({ limit: '10kb' }), (req, res) => {
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown };
    const user =
      typeof body.username === 'string' && typeof body.password === 'string'
        ? users.verify(body.username, body.password)
        : undefined;
    if (user === undefined) {
      res.status(401).json({ error: 'Wrong username or password.' });
      return;
    }
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, { username: user.username, expiresAt: Date.now() + sessionTtlMs });
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: sessionTtlMs });
    res.json({ username: user.username, displayName: user.displayName });
  });

  app.post('/logout', (req, res) => {
    const id = readCookie(req, SESSION_COOKIE);
    if (id !== undefined) sessions.delete(id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  app.get('/me', requireUser, (_req, res) => {
    const user = res.locals.user as DemoUser;
    res.json({ username: user.username, displayName: user.displayName });
  });

  // Cube's recipe: the app's own login guards a route that signs the security context.
  app.get('/auth/tessera-token', requireUser, (_req, res) => {
    const user = res.locals.user as DemoUser;
    const token = jwt.sign({ u: { id: user.userId }, tenant_id: user.tenantId }, apiSecret, {
      algorithm: 'HS256',
      expiresIn: tokenExpiresIn as jwt.SignOptions['expiresIn'] & {},
    });
    res.set('Cache-Control', 'no-store').json({ token });
  });

  app.get('/vendor/tessera-client.js', (_req, res, next) => {
    bundleClient()
      .then((code) => res.type('text/javascript').set('Cache-Control', 'no-cache').send(code))
      .catch(next);
  });

  app.use('/cubejs-api', express.raw({ type: () => true, limit: '1mb' }), (req, res, next) => {
    passThrough(`${tesseraUrl}/cubejs-api${req.url}`, req, res).catch(next);
  });

  app.use(express.static(PUBLIC_DIR, { index: 'index.html' }));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('example app error:', err);
    res.status(502).json({ error: 'The example app could not complete the request.' });
  });
  return app;
}

async function passThrough(url: string, req: Request, res: Response): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && Buffer.isBuffer(req.body) && req.body.length > 0;
  const upstream = await fetch(url, { method: req.method, headers, body: hasBody ? new Uint8Array(req.body as Buffer) : null });
  res.status(upstream.status);
  for (const name of ['content-type', 'x-request-id', 'retry-after', 'www-authenticate']) {
    const value = upstream.headers.get(name);
    if (value !== null) res.set(name, value);
  }
  res.send(Buffer.from(await upstream.arrayBuffer()));
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function validate(options: ExampleAppOptions): { tesseraUrl: string; apiSecret: string } {
  if (typeof options.tesseraUrl !== 'string' || !/^https?:\/\//.test(options.tesseraUrl)) {
    throw new TypeError('createExampleApp: option tesseraUrl must be an http(s) URL.');
  }
  if (typeof options.apiSecret !== 'string' || options.apiSecret.length < 32) {
    throw new TypeError('createExampleApp: option apiSecret must be a string of at least 32 characters.');
  }
  return { tesseraUrl: options.tesseraUrl.replace(/\/+$/, ''), apiSecret: options.apiSecret };
}
