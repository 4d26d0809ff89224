/**
 * A TCP proxy in front of PostgreSQL, so a test can take the database away
 * (`cut()`), give it back (`restore()`), or hold queries in flight (`hold()`)
 * without touching the real server.
 */
import net from 'node:net';

export interface TcpProxy {
  /** The database URL rewritten to go through the proxy. */
  readonly url: string;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Holds bytes sent to the database until `release()`; resolves once a held byte arrives. */
  hold(): { arrived: Promise<void> };
  /** Forwards everything held, and stops holding. */
  release(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(databaseUrl: string): Promise<TcpProxy> {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const sockets = new Set<net.Socket>();
  let down = false;
  let holding: { chunks: [net.Socket, Buffer][]; onArrive: () => void } | undefined;

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (holding) {
        holding.chunks.push([upstream, chunk]);
        holding.onArrive();
      } else {
        upstream.write(chunk);
      }
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const cut = (): void => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    url: url.toString(),
    cut,
    restore() {
      down = false;
    },
    hold() {
      let onArrive!: () => void;
      const arrived = new Promise<void>((resolve) => (onArrive = resolve));
      holding = { chunks: [], onArrive };
      return { arrived };
    },
    release() {
      const held = holding;
      holding = undefined;
      for (const [upstream, chunk] of held?.chunks ?? []) upstream.write(chunk);
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
