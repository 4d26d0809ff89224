/**
 * A TCP proxy in front of PostgreSQL, so a test can take the database away
 * (`cut()`), give it back (`restore()`), hold queries in flight (`hold()`),
 * black-hole the network (`blackhole()`: bytes vanish, nothing closes), add
 * latency (`latency(ms)`) or reset every connection (`reset()`) without
 * touching the real server.
 */
import net from 'node:net';

export interface TcpProxy {
  /** The database URL rewritten to go through the proxy. */
  readonly url: string;
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again (and ends a black-hole). */
  restore(): void;
  /** Holds bytes sent to the database until `release()`; resolves once a held byte arrives. */
  hold(): { arrived: Promise<void> };
  /** Forwards everything held, and stops holding. */
  release(): void;
  /** A partition: every byte in either direction is dropped and no socket closes; new connections hang. */
  blackhole(): void;
  /** The partition heals: bytes flow again (those dropped stay lost, as on a real network after a reset). */
  heal(): void;
  /** Delays every chunk, both ways, by `ms` (0 to stop). */
  latency(ms: number): void;
  /** Sends a TCP RST on every open connection (new ones are still accepted). */
  reset(): void;
  /** Open client connections right now. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(databaseUrl: string): Promise<TcpProxy> {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let down = false;
  let blackholed = false;
  let delayMs = 0;
  let holding: { chunks: [net.Socket, Buffer][]; onArrive: () => void } | undefined;

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    clients.add(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      clients.delete(client);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    const send = (to: net.Socket, chunk: Buffer): void => {
      if (delayMs > 0) setTimeout(() => to.destroyed || to.write(chunk), delayMs);
      else to.write(chunk);
    };
    client.on('data', (chunk: Buffer) => {
      if (blackholed) return;
      if (holding) {
        holding.chunks.push([upstream, chunk]);
        holding.onArrive();
      } else {
        send(upstream, chunk);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!blackholed) send(client, chunk);
    });
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
    clients.clear();
  };
  return {
    url: url.toString(),
    port,
    cut,
    restore() {
      down = false;
      blackholed = false;
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
    blackhole() {
      blackholed = true;
    },
    heal() {
      blackholed = false;
    },
    latency(ms: number) {
      delayMs = ms;
    },
    reset() {
      for (const s of [...sockets]) s.resetAndDestroy();
    },
    connections: () => clients.size,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
