/**
 * A tiny HTTP server on 127.0.0.1 that answers from a script, for testing the
 * client's own behaviour (tokens, retries, polling) independent of Tessera.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly searchParams: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface ScriptedReply {
  readonly status?: number;
  /** Sent as JSON unless it is a string. */
  readonly body?: unknown;
  /** Keep the request open until the client gives up. */
  readonly hang?: boolean;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>/cubejs-api/v1` */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedServer(
  reply: (req: RecordedRequest, index: number) => ScriptedReply | Promise<ScriptedReply>,
): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        searchParams: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      void Promise.resolve(reply(recorded, requests.length - 1)).then((r) => {
        if (r.hang === true) {
          open.add(res);
          return;
        }
        const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/cubejs-api/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A minimal but well-formed multi envelope with one result. */
export function multiEnvelope(data: Record<string, unknown>[], query: Record<string, unknown>, annotation?: unknown): unknown {
  const normalized = { ...query, limit: 10000, timezone: 'UTC' };
  return {
    queryType: 'regularQuery',
    results: [
      {
        query: normalized,
        data,
        annotation: annotation ?? { measures: {}, dimensions: {}, segments: {}, timeDimensions: {} },
        lastRefreshTime: '2025-01-01T00:00:00.000Z',
        dataSource: 'default',
        dbType: 'postgres',
        external: false,
        slowQuery: false,
        total: null,
      },
    ],
    pivotQuery: { ...normalized, queryType: 'regularQuery' },
    slowQuery: false,
  };
}
