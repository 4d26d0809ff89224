/** `tessera token`: signs with the configured secret, else the dev secret `serve` wrote for the embedded demo. */
import { loadConfig } from '../../config/load-config.js';
import type { CliCommand } from '../cli-command.js';
import { writeErr, writeOut } from '../cli-command.js';
import { existingDevSecret } from '../open-database.js';
import { runTokenCommand, TOKEN_HELP } from '../token-command.js';

export const tokenCliCommand: CliCommand = {
  help: TOKEN_HELP,
  async run(args) {
    const env: Record<string, string | undefined> = { ...process.env };
    if (!env.CUBEJS_API_SECRET && !env.TESSERA_API_SECRET && !env.CUBEJS_API_SECRETS && !env.TESSERA_API_SECRETS) {
      // A broken config file must not stop a token from being printed with an explicit -s.
      const config = await loadConfig({ env }).catch(() => undefined);
      const devSecret = config && existingDevSecret(config);
      if (devSecret) env.TESSERA_API_SECRET = devSecret;
    }
    return runTokenCommand(args, env, { stdout: writeOut, stderr: writeErr });
  },
};
