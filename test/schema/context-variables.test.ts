import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { loadModelFromSources } from '../../src/schema/load-model.js';
import type { Model, SecurityContext } from '../../src/schema/model.js';
import { recordingContext } from './recording-context.js';

const models = new Map<string, Model>();

/** Loads (once) a one-cube model whose `sql` is `sql` (model-file text) and renders it with `context`. */
function render(sql: string, context: SecurityContext = {}): { sql: string; params: unknown[] } {
  const content = 'cube(`Orders`, { sql: `' + sql + "`, measures: { count: { type: 'count' } } });";
  const model = models.get(content) ?? loadModelFromSources([{ fileName: 'Orders.js', content }]);
  models.set(content, model);
  const { ctx, params } = recordingContext(context);
  return { sql: model.cubes.get('Orders')!.source.sql(ctx), params };
}

function renderError(sql: string, context: SecurityContext): EngineError {
  try {
    render(sql, context);
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
  throw new Error('expected an EngineError');
}

const FILTER = 'SELECT * FROM t WHERE ${SECURITY_CONTEXT.tenant_id.filter(\'tenant_id\')}';

describe('the Cube seed example', () => {
  it('renders USER_CONTEXT.id.filter as a bound parameter with the user id', () => {
    const seed = `cube(\`Orders\`, {
  sql: \`SELECT * FROM tessera_demo.orders WHERE \${USER_CONTEXT.id.filter('user_id')}\`,

  measures: {
    count: {
      type: \`count\`,
    },
  },
});`;
    const model = loadModelFromSources([{ fileName: 'schema/Orders.js', content: seed }]);
    const { ctx, params } = recordingContext({ u: { id: 42 }, id: 42 });
    expect(model.cubes.get('Orders')!.source.sql(ctx)).toBe('SELECT * FROM tessera_demo.orders WHERE user_id = $1');
    expect(params).toEqual([42]);
  });
});

describe('.filter(column)', () => {
  it('binds a scalar as col = $n', () => {
    expect(render(FILTER, { tenant_id: 'acme' })).toEqual({ sql: 'SELECT * FROM t WHERE tenant_id = $1', params: ['acme'] });
  });

  it('binds an array as col IN ($1, $2, …)', () => {
    expect(render(FILTER, { tenant_id: [1, 2, 3] })).toEqual({ sql: 'SELECT * FROM t WHERE tenant_id IN ($1, $2, $3)', params: [1, 2, 3] });
  });

  it('renders an empty array as 1 = 0', () => {
    expect(render(FILTER, { tenant_id: [] })).toEqual({ sql: 'SELECT * FROM t WHERE 1 = 0', params: [] });
  });

  it('renders a missing key as 1 = 1', () => {
    expect(render(FILTER, { other: 1 })).toEqual({ sql: 'SELECT * FROM t WHERE 1 = 1', params: [] });
  });

  it.each([
    ['0', 0],
    ["''", ''],
    ['false', false],
    ['null', null],
  ])('binds %s as a real value instead of dropping the filter', (_label, value) => {
    expect(render(FILTER, { tenant_id: value })).toEqual({ sql: 'SELECT * FROM t WHERE tenant_id = $1', params: [value] });
  });

  it('follows nested paths and treats a missing intermediate object as absent', () => {
    const sql = 'SELECT 1 WHERE ${SECURITY_CONTEXT.org.ids.filter(\'org_id\')}';
    expect(render(sql, { org: { ids: [5, 6] } })).toEqual({ sql: 'SELECT 1 WHERE org_id IN ($1, $2)', params: [5, 6] });
    expect(render(sql, {})).toEqual({ sql: 'SELECT 1 WHERE 1 = 1', params: [] });
  });

  it('does not resolve inherited properties such as constructor', () => {
    expect(render('SELECT 1 WHERE ${SECURITY_CONTEXT.constructor.filter(\'c\')}', { a: 1 })).toEqual({ sql: 'SELECT 1 WHERE 1 = 1', params: [] });
  });

  it('fails closed with a clear error when the value is an object, without echoing it', () => {
    const error = renderError(FILTER, { tenant_id: { secret: 'x-secret-value' } });
    expect(error.code).toBe('ERR_AUTH_CONTEXT_INVALID');
    expect(error.message).toBe('Security context value tenant_id is an object, not a value a row filter can bind');
    expect(error.message).not.toContain('x-secret-value');
  });

  it('fails closed when an array holds an object', () => {
    expect(renderError(FILTER, { tenant_id: [1, { a: 2 }] }).code).toBe('ERR_AUTH_CONTEXT_INVALID');
  });

  it('accepts SECURITY_CONTEXT, securityContext, security_context and USER_CONTEXT alike', () => {
    for (const alias of ['SECURITY_CONTEXT', 'securityContext', 'security_context', 'USER_CONTEXT']) {
      expect(render(`SELECT 1 WHERE \${${alias}.id.filter('user_id')}`, { id: 7 })).toEqual({ sql: 'SELECT 1 WHERE user_id = $1', params: [7] });
    }
  });
});

describe('.filter(fn)', () => {
  it('passes the placeholder of a scalar to the function', () => {
    const sql = 'SELECT 1 WHERE ${SECURITY_CONTEXT.id.filter((v) => `owner = ${v} OR shared`)}';
    expect(render(sql, { id: 3 })).toEqual({ sql: 'SELECT 1 WHERE owner = $1 OR shared', params: [3] });
  });

  it('passes an array of placeholders for an array', () => {
    const sql = "SELECT 1 WHERE ${SECURITY_CONTEXT.ids.filter((vs) => `x = ANY(ARRAY[${vs.join(',')}])`)}";
    expect(render(sql, { ids: [1, 2] })).toEqual({ sql: 'SELECT 1 WHERE x = ANY(ARRAY[$1,$2])', params: [1, 2] });
  });

  it('renders 1 = 1 without calling the function when the value is absent', () => {
    const sql = "SELECT 1 WHERE ${SECURITY_CONTEXT.id.filter(() => { throw new Error('called'); })}";
    expect(render(sql, {})).toEqual({ sql: 'SELECT 1 WHERE 1 = 1', params: [] });
  });
});

describe('.requiredFilter(column)', () => {
  const REQUIRED = 'SELECT 1 WHERE ${SECURITY_CONTEXT.user_id.requiredFilter(\'user_id\')}';

  it('binds a present value, including 0', () => {
    expect(render(REQUIRED, { user_id: 0 })).toEqual({ sql: 'SELECT 1 WHERE user_id = $1', params: [0] });
  });

  it('rejects a missing value with a 400-class error naming the column', () => {
    const error = renderError(REQUIRED, {});
    expect(error.code).toBe('ERR_QUERY_FILTER_REQUIRED');
    expect(error.message).toBe('Filter for user_id is required');
  });
});

describe('.unsafeValue() and direct interpolation', () => {
  it('returns the raw value from unsafeValue for use in model JavaScript', () => {
    expect(render('SELECT 1 LIMIT ${SECURITY_CONTEXT.n.unsafeValue() + 1}', { n: 5 })).toEqual({ sql: 'SELECT 1 LIMIT 6', params: [] });
  });

  it('renders ${SECURITY_CONTEXT.x} as a placeholder', () => {
    expect(render('SELECT 1 WHERE a = ${SECURITY_CONTEXT.id}', { id: 42 })).toEqual({ sql: 'SELECT 1 WHERE a = $1', params: [42] });
    expect(render('SELECT 1 WHERE a IN (${SECURITY_CONTEXT.ids})', { ids: [1, 2] })).toEqual({ sql: 'SELECT 1 WHERE a IN ($1, $2)', params: [1, 2] });
  });

  it('binds NULL for an absent directly interpolated value, which matches no row', () => {
    expect(render('SELECT 1 WHERE a = ${SECURITY_CONTEXT.id}', {})).toEqual({ sql: 'SELECT 1 WHERE a = $1', params: [null] });
  });
});

describe('binding', () => {
  it('never puts a context value into the SQL text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 })), (value) => {
        const { sql, params } = render(FILTER, { tenant_id: value });
        const values = Array.isArray(value) ? value : [value];
        expect(params).toEqual(values);
        const placeholders = values.map((_v, i) => `$${i + 1}`);
        const expected = Array.isArray(value) ? `tenant_id IN (${placeholders.join(', ')})` : 'tenant_id = $1';
        expect(sql).toBe(`SELECT * FROM t WHERE ${expected}`);
      }),
    );
  });
});
