/**
 * The process logger: JSON lines (pino) with every credential-bearing field
 * redacted, whoever logs it.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';

/** Paths censored in every log line: auth headers, cookies, API keys, tokens. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-cube-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-cube-authorization"]',
  'headers["x-api-key"]',
  'headers.cookie',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  // Security-context values are tenant data (Cube 1.8 redacts them too).
  'securityContext',
  '*.securityContext',
  'rawContext',
  '*.rawContext',
  'security_context',
  '*.security_context',
] as const;

/** `pretty` (dev, on a terminal) writes colourised lines through pino-pretty; otherwise JSON lines. */
export function createLogger(opts: { level: string; destination?: DestinationStream; pretty?: boolean }): Logger {
  const destination = opts.destination ?? (opts.pretty && process.stdout.isTTY ? pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }) : undefined);
  return pino(
    {
      level: opts.level,
      base: { service: 'tessera' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
