/**
 * One `tessera <name>` command: `run` returns the exit code (0 ok, 1 a start-up
 * problem, 2 a usage error), or -1 for a server that exits on its own.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliCommand {
  readonly help: string;
  run(args: readonly string[]): Promise<number>;
}

/** A usage error: printed with a pointer to the command's help, exit code 2. */
export class UsageError extends Error {}

export const writeOut = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
export const writeErr = (text: string): void => {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
};

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's options (strict), answers `--help`, and turns a usage error into exit code 2.
 * `body` receives the parsed values and positionals.
 */
export function defineCommand<O extends Options>(
  name: string,
  help: string,
  options: O,
  body: (values: Record<string, string | boolean | string[] | undefined>, positionals: string[]) => Promise<number>,
  allowPositionals = false,
): CliCommand {
  return {
    help,
    async run(args) {
      let parsed: { values: Record<string, unknown>; positionals: string[] };
      try {
        parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
      } catch (err) {
        writeErr(`tessera ${name}: ${err instanceof Error ? err.message : String(err)}\nRun "tessera ${name} --help" for the options.`);
        return 2;
      }
      if (parsed.values.help) {
        writeOut(help);
        return 0;
      }
      try {
        return await body(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        writeErr(`tessera ${name}: ${err.message}\nRun "tessera ${name} --help" for the options.`);
        return 2;
      }
    },
  };
}
