/**
 * `tessera explain '<query json>' --context '<json>' [--model dir]`: prints how a query is answered
 * (the resolved query, the plan, the SQL and its parameters) without a database. It runs the same
 * pipeline as /load: queryRewrite, views, the join tree, access policies, plan and render.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { AuthResult } from '../auth/auth-result.js';
import { deriveSecurityContext } from '../auth/derive-security-context.js';
import { loadConfig } from '../config/load-config.js';
import type { Database } from '../db/database.js';
import { TesseraError } from '../errors/engine-error.js';
import { printPlan } from '../plan/query-plan.js';
import { createQueryPolicies } from '../policy/create-query-policies.js';
import { loadModel } from '../schema/load-model.js';
import { prepareRequest, type PreparedQuery } from '../server/query-pipeline.js';

export interface ExplainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const EXPLAIN_HELP = `Usage: tessera explain '<query json>' [options]

Prints the resolved query, the query plan, the SQL and its parameters for a /load query,
without connecting to a database.

Options:
  -c, --context <json>  The verified token payload (security context). Default: {}.
  -m, --model <dir>     The model folder. Default: CUBEJS_SCHEMA_PATH, else ./schema.
  -h, --help            Shows this help.

Example:
  tessera explain '{"measures":["Orders.count"],"dimensions":["Users.city"]}' --context '{"tenant_id":2}'`;

/** A database that explain never reaches: preparing a query does not run it. */
const NO_DATABASE: Database = new Proxy({} as Database, {
  get() {
    throw new Error('tessera explain does not use a database');
  },
});

function section(title: string, body: string): string {
  return `== ${title}\n${body}\n`;
}

function describe(p: PreparedQuery): string {
  const q = p.cubeQuery;
  const resolved = {
    measures: q.measures,
    dimensions: q.dimensions,
    timeDimensions: q.timeDimensions,
    segments: q.segments,
    filters: q.filters,
    joinTree: { root: p.plan.root, joins: p.plan.joins.map((j) => `${j.from} -> ${j.to} (${j.relationship})`), multiplied: p.plan.multiplied },
    read: p.read,
    securityFilters: q.securityFilters ?? {},
  };
  return [
    section('resolved query', JSON.stringify(resolved, null, 2)),
    section('plan', printPlan(p.compiled.plan)),
    section('sql', p.compiled.sql),
    section('params', JSON.stringify(p.compiled.params)),
  ].join('\n');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TesseraError(`${what} is not valid JSON`);
  }
}

export async function runExplainCommand(args: readonly string[], env: NodeJS.ProcessEnv, io: ExplainIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { context: { type: 'string', short: 'c' }, model: { type: 'string', short: 'm' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    io.stderr(`tessera explain: ${err instanceof Error ? err.message : String(err)}\n\n${EXPLAIN_HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(EXPLAIN_HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr(`tessera explain: give exactly one query as JSON\n\n${EXPLAIN_HELP}`);
    return 2;
  }
  try {
    const query = parseJson(parsed.positionals[0] as string, 'The query');
    const payload = parseJson(parsed.values.context ?? '{}', 'The context');
    const config = await loadConfig({ env });
    const model = await loadModel(parsed.values.model ? path.resolve(parsed.values.model) : config.schemaPath);
    const contexts = deriveSecurityContext(payload, config.jwt.claimsNamespace, 'The context');
    const auth: AuthResult = { via: 'dev', ...contexts, scopes: ['query', 'meta'] };
    const policies = createQueryPolicies(config, model);
    const prepared = await prepareRequest(query, { config, model, db: NO_DATABASE, policies }, auth);
    io.stdout(`query type: ${prepared.queryType}\n`);
    prepared.queries.forEach((p, i) => io.stdout(`${prepared.queries.length > 1 ? `# query ${i + 1}\n` : ''}${describe(p)}`));
    return 0;
  } catch (err) {
    // Errors a user can act on are one line; anything else is a bug and keeps its stack.
    if (err instanceof TesseraError) {
      io.stderr(`tessera explain: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
