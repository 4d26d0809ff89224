/**
 * PostgreSQL's CancelRequest: a separate connection carrying the backend's
 * process id and secret key. It needs no login, so it works when the pool is
 * full, and PgBouncer forwards it to the server connection in use.
 */
import net from 'node:net';

/** Protocol code of a CancelRequest (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

export interface CancelTarget {
  readonly host: string;
  readonly port: number;
  readonly processID: number;
  readonly secretKey: number;
}

/** Sends the cancel and resolves once the server closed the socket (or after `timeoutMs`); never rejects. */
export function sendCancelRequest(target: CancelTarget, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    packet.writeInt32BE(target.processID, 8);
    packet.writeInt32BE(target.secretKey, 12);
    // A host starting with "/" is a Unix socket directory, as libpq reads it.
    const socket = target.host.startsWith('/')
      ? net.connect(`${target.host}/.s.PGSQL.${target.port}`)
      : net.connect(target.port, target.host);
    let sent = false;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => {
      sent = true;
      socket.write(packet);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(sent));
  });
}
