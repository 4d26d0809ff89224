/**
 * The HTTP server of `tessera serve`: it listens at once (so `/livez` answers
 * and `/readyz` says DOWN while the database is unreachable), builds the app
 * with retries and backoff, answers malformed requests (431 and friends) in
 * Tessera's JSON shape, and on SIGTERM/SIGINT drains: stop accepting, let
 * in-flight requests finish within the grace period, close keep-alive
 * sockets, end the pools, exit 0.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { classifyDatabaseError } from '../db/database-errors.js';
import { EngineError } from '../errors/engine-error.js';
import { describeError } from './error-handler.js';

const DEFAULT_GRACE_MS = 10_000;
const DEFAULT_RETRY_MAX_MS = 30_000;
const FIRST_RETRY_MS = 500;
/** After the grace period, this long again for the pools to end before giving up. */
const CLOSE_TIMEOUT_MS = 5000;

export interface StartHttpServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Builds the request handler; a failure for want of a database is retried with backoff, any other ends start-up. */
  readonly prepare: () => Promise<RequestListener>;
  /** Runs once the app serves (e.g. prints the banner). */
  readonly onReady?: ((port: number) => void) | undefined;
  /** Ends pools and embedded servers after the HTTP server closed. */
  readonly close: () => Promise<void>;
  /** Signals that start the drain; default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[] | undefined;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Resolves with the process exit code once the server stopped (0 after a clean drain). */
  readonly done: Promise<number>;
  /** Starts the drain, as a signal would. */
  stop(reason: string): void;
}

/** An http.Server whose parse errors (headers too large, bad request line) answer `{error, code}` JSON. */
export function createHttpServer(handler: RequestListener): Server {
  const server = http.createServer(handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  return server;
}

const CLIENT_ERRORS: Readonly<Record<string, [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request took too long to arrive.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'The request chunk extensions are too large.'],
};

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request is malformed.'];
  const { body } = describeError(new EngineError('ERR_BAD_REQUEST', message, { status }), randomUUID());
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/** Answers while the app is not built yet: alive, not ready, and a 503 with Retry-After for everything else. */
const startingHandler: RequestListener = (req, res) => {
  const path = (req.url ?? '').split('?')[0];
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (path === '/livez' || path === '/readyz') {
    res.statusCode = path === '/livez' ? 200 : 503;
    res.end(JSON.stringify({ health: path === '/livez' ? 'HEALTH' : 'DOWN' }));
    return;
  }
  const { status, body } = describeError(new EngineError('ERR_DB_UNAVAILABLE', 'The server is starting: the database is not reachable yet.'), randomUUID());
  res.statusCode = status;
  res.setHeader('retry-after', '5');
  res.end(JSON.stringify(body));
};

/** Whether start-up failed only because the database could not be reached (worth retrying). */
export function isDatabaseDown(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === undefined || e === null || seen.has(e)) continue;
    seen.add(e);
    const code = classifyDatabaseError(e);
    if (code === 'ERR_DB_UNAVAILABLE' || code === 'ERR_DB_TIMEOUT') return true;
    if (e instanceof AggregateError) queue.push(...e.errors);
    if (e instanceof Error && e.cause !== undefined) queue.push(e.cause);
  }
  return false;
}

function reasonOf(err: unknown): string {
  const e = err instanceof AggregateError && err.errors[0] instanceof Error ? err.errors[0] : err;
  return e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message).split('\n')[0]! : String(e);
}

export async function startHttpServer(opts: StartHttpServerOptions): Promise<RunningServer> {
  const { config, logger } = opts;
  const graceMs = config.server?.shutdownGraceMs ?? DEFAULT_GRACE_MS;
  const retryMaxMs = config.server?.startupRetryMaxMs ?? DEFAULT_RETRY_MAX_MS;
  let handler: RequestListener = startingHandler;
  let stopping = false;
  const inFlight = new Set<ServerResponse>();

  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (stopping) res.shouldKeepAlive = false;
    res.once('close', () => {
      inFlight.delete(res);
      // A keep-alive socket freed during the drain is closed at once rather than at the grace deadline.
      if (stopping) server.closeIdleConnections();
    });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, devMode: config.devMode }, 'tessera listening');

  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  let wake: (() => void) | undefined;

  const stop = (reason: string): void => {
    // Ctrl+C reaches us twice (from the terminal and relayed by a parent), so repeats are ignored.
    if (stopping) return;
    stopping = true;
    wake?.();
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const forceTimer = setTimeout(() => {
      logger.warn({ open: inFlight.size }, 'in-flight requests did not finish in time; closing their connections');
      server.closeAllConnections();
    }, graceMs);
    const exitTimer = setTimeout(() => {
      logger.error('shutdown did not complete; exiting');
      finish(1);
    }, graceMs + CLOSE_TIMEOUT_MS);
    forceTimer.unref();
    exitTimer.unref();
    server.close(() => {
      clearTimeout(forceTimer);
      opts.close().then(
        () => {
          clearTimeout(exitTimer);
          logger.info('stopped');
          finish(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          finish(1);
        },
      );
    });
    server.closeIdleConnections();
    // Logged once the listener is closed, so anyone reading it can rely on new connections being refused.
    logger.info({ reason, inFlight: inFlight.size, graceMs }, 'shutting down: finishing in-flight requests');
  };
  for (const signal of opts.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => stop(signal));

  const prepareWithRetry = async (): Promise<void> => {
    let delay = FIRST_RETRY_MS;
    for (let attempt = 1; !stopping; attempt += 1) {
      try {
        const app = await opts.prepare();
        if (stopping) return;
        handler = app;
        logger.info({ attempt }, 'database reachable; serving');
        opts.onReady?.(port);
        return;
      } catch (err) {
        if (!isDatabaseDown(err)) throw err;
        logger.warn({ attempt, retryInMs: delay, reason: reasonOf(err) }, 'database not reachable; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, retryMaxMs);
      }
    }
  };
  try {
    await prepareWithRetry();
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await opts.close().catch(() => undefined);
    throw err;
  }
  return { server, port, done, stop };
}
