/**
 * `tessera <command>`: one table of commands, each loaded on demand and each
 * answering `--help`. Start-up problems a user can fix get one line on stderr
 * and exit 1; usage errors exit 2.
 */
import { packageVersionOf as packageVersion } from '../openapi/package-version.js';
import { ConfigError, ModelError } from '../errors/engine-error.js';
import type { CliCommand } from './cli-command.js';
import { StartupError } from './startup-error.js';

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CliCommand>;
}

/** Add a command with one line here; its module exports a `CliCommand`. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { summary: 'Start the HTTP server (the default command).', load: async () => (await import('./commands/serve-command.js')).serveCommand },
  seed: { summary: 'Create and fill the demo tables in their own schema.', load: async () => (await import('./commands/seed-command.js')).seedCommand },
  token: { summary: 'Print a signed HS256 token for development.', load: async () => (await import('./commands/token-cli-command.js')).tokenCliCommand },
  explain: { summary: 'Print the resolved query, plan, SQL and parameters without a database.', load: async () => (await import('./commands/explain-cli-command.js')).explainCliCommand },
  validate: { summary: 'Load a model folder without a database and print every error.', load: async () => (await import('./commands/validate-cli-command.js')).validateCliCommand },
  rls: { summary: 'Print a row-level security SQL draft for the model (rls sql).', load: async () => (await import('./commands/rls-command.js')).rlsCommand },
};


function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `Usage: tessera <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help     Show help (also: tessera <command> --help).
  -v, --version  Print the version.

Configuration is read from the environment and tessera.config.{js,mjs,ts} (see README).`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic && Object.hasOwn(COMMANDS, topic)) return (await COMMANDS[topic]!.load()).run(['--help']);
    process.stdout.write(`${mainHelp()}\n`);
    return 0;
  }
  // Options without a command go to `serve` (`tessera --port 4001`).
  const [name, args] = first === undefined || first.startsWith('-') ? ['serve', argv] : [first, rest];
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`tessera: unknown command "${name}"\n\n${mainHelp()}\n`);
    return 2;
  }
  if (args.includes('--version') || args.includes('-v')) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  return (await entry.load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    // A server keeps running until its own shutdown exits the process.
    if (code !== -1) process.exit(code);
  },
  (err: unknown) => {
    // Start-up problems a user can fix get one clear line, not a stack trace.
    if (err instanceof ConfigError || err instanceof ModelError || err instanceof StartupError || (err instanceof Error && ['SeedRefusedError', 'StartupError'].includes(err.name))) {
      process.stderr.write(`tessera: ${err.message}\n`);
    } else {
      process.stderr.write(`tessera: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  },
);
