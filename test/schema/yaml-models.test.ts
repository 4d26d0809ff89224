import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/engine-error.js';
import { LocatedModelError } from '../../src/schema/load/located-error.js';
import { pythonToJs, yamlTemplateToJs } from '../../src/schema/load/yaml/python-expression.js';
import { loadModelFromSources, type ModelSource } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';
import { modelErrorOf } from './model-error-of.js';
import { recordingContext } from './recording-context.js';
import { snapshotModel } from './model-snapshot.js';

const yml = (content: string, fileName = 'model.yml'): ModelSource => ({ fileName, content });
const js = (content: string, fileName = 'model.js'): ModelSource => ({ fileName, content });

function errorsOf(files: readonly ModelSource[]): ModelError[] {
  const errors: ModelError[] = [];
  loadModelFromSources(files, { errors });
  return errors;
}

const USERS_YML = `
  - name: users
    sql_table: tessera_demo.users
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: city
        sql: city
        type: string
`;

describe('YAML model files', () => {
  it('resolves every reference form Cube documents to the same SQL as JavaScript', () => {
    const yaml: Model = loadModelFromSources([
      yml(`cubes:
  - name: orders
    sql: SELECT * FROM tessera_demo.orders WHERE {FILTER_PARAMS.orders.status.filter('status')} AND {SECURITY_CONTEXT.tenant_id.filter('tenant_id')}
    joins:
      - name: users
        relationship: many_to_one
        sql: "{CUBE}.user_id = {users}.id"
    measures:
      - name: count
        type: count
      - name: per_user
        sql: "{count} / NULLIF({users.count}, 0)"
        type: number
    dimensions:
      - name: id
        sql: "{CUBE}.id"
        type: number
        primary_key: true
      - name: status_again
        sql: "{CUBE.status}"
        type: string
      - name: status
        sql: "{CUBE}.status"
        type: string
      - name: buyer_city
        sql: "{users}.city"
        type: string
      - name: buyer_city_member
        sql: "{users.city}"
        type: string
      - name: bare
        sql: status
        type: string
      - name: sub_select
        sql: "{users.sql()}"
        type: string
${USERS_YML}`),
    ]);
    const twin: Model = loadModelFromSources([
      js(`cube('orders', {
  sql: \`SELECT * FROM tessera_demo.orders WHERE \${FILTER_PARAMS.orders.status.filter('status')} AND \${SECURITY_CONTEXT.tenant_id.filter('tenant_id')}\`,
  joins: { users: { relationship: 'belongsTo', sql: \`\${CUBE}.user_id = \${users}.id\` } },
  measures: { count: { type: 'count' }, per_user: { sql: \`\${count} / NULLIF(\${users.count}, 0)\`, type: 'number' } },
  dimensions: {
    id: { sql: \`\${CUBE}.id\`, type: 'number', primary_key: true },
    status_again: { sql: \`\${CUBE.status}\`, type: 'string' },
    status: { sql: \`\${CUBE}.status\`, type: 'string' },
    buyer_city: { sql: \`\${users}.city\`, type: 'string' },
    buyer_city_member: { sql: \`\${users.city}\`, type: 'string' },
    bare: { sql: 'status', type: 'string' },
    sub_select: { sql: \`\${users.sql()}\`, type: 'string' },
  },
});
cube('users', { sql_table: 'tessera_demo.users', measures: { count: { type: 'count' } },
  dimensions: { id: { sql: 'id', type: 'number', primary_key: true }, city: { sql: 'city', type: 'string' } } });`),
    ]);
    expect(snapshotModel(yaml)).toEqual(snapshotModel(twin));
    const { ctx, params } = recordingContext({ tenant_id: 7 });
    const orders = yaml.cubes.get('orders')!;
    expect(orders.source.sql(ctx)).toBe('SELECT * FROM tessera_demo.orders WHERE 1 = 1 AND tenant_id = $1');
    expect(params).toEqual([7]);
    expect(orders.dimensions.get('buyer_city')!.sql(ctx)).toBe('"users".city');
    expect(orders.dimensions.get('buyer_city_member')!.sql(ctx)).toBe('{users.city}');
    expect(orders.dimensions.get('status_again')!.sql(ctx)).toBe('{orders.status}');
    expect(orders.dimensions.get('bare')!.sql(ctx)).toBe('status');
    expect(orders.dimensions.get('sub_select')!.sql(ctx)).toBe('tessera_demo.users');
  });

  it('maps many_to_one, one_to_many and one_to_one to the JS relationships', () => {
    const model = loadModelFromSources([
      yml(`cubes:
  - name: a
    sql_table: a
    joins:
      - { name: b, relationship: many_to_one, sql: "{a}.b_id = {b}.id" }
      - { name: c, relationship: one_to_many, sql: "{a}.id = {c}.a_id" }
      - { name: d, relationship: one_to_one, sql: "{a}.id = {d}.a_id" }
    dimensions: [{ name: id, sql: id, type: number, primary_key: true }]
  - { name: b, sql_table: b, dimensions: [{ name: id, sql: id, type: number, primary_key: true }] }
  - { name: c, sql_table: c, dimensions: [{ name: id, sql: id, type: number, primary_key: true }] }
  - { name: d, sql_table: d, dimensions: [{ name: id, sql: id, type: number, primary_key: true }] }
`),
    ]);
    expect(model.cubes.get('a')!.joins.map((j) => `${j.to}:${j.relationship}`)).toEqual(['b:belongsTo', 'c:hasMany', 'd:hasOne']);
  });

  it('keeps a policy condition written as one {expression} a value, not text, so false stays false', () => {
    const model = loadModelFromSources([
      yml(`cubes:
  - name: orders
    sql_table: tessera_demo.orders
    dimensions:
      - { name: id, sql: id, type: number, primary_key: true }
      - { name: tenant_id, sql: tenant_id, type: number }
    access_policy:
      - group: "*"
        conditions:
          - if: "{ securityContext.is_admin }"
        row_level:
          allow_all: true
      - group: "*"
        row_level:
          filters:
            - member: tenant_id
              operator: equals
              values: ["{ securityContext.tenant_id }"]
`),
    ]);
    const [admin, tenant] = model.cubes.get('orders')!.accessPolicy!;
    expect(admin!.conditions[0]!({ is_admin: false })).toBe(false);
    expect(admin!.conditions[0]!({ is_admin: true })).toBe(true);
    const rowLevel = tenant!.rowLevel as { filters: (sc: object) => unknown };
    expect(rowLevel.filters({ tenant_id: 3 })).toEqual([{ member: 'orders.tenant_id', operator: 'equals', values: [3] }]);
  });

  it('loads a YAML cube that extends and joins a JS cube, and a YAML view over JS cubes', () => {
    const model = loadModelFromSources([
      js("cube('Base', { sql_table: 'tessera_demo.orders', measures: { count: { type: 'count' } }, dimensions: { id: { sql: 'id', type: 'number', primaryKey: true }, status: { sql: 'status', type: 'string' } } });", 'base.js'),
      yml(`cubes:
  - name: child
    extends: Base
    sql_table: public.orders_2024
    joins:
      - { name: Base, relationship: many_to_one, sql: "{CUBE}.id = {Base}.id" }
views:
  - name: v
    cubes:
      - { join_path: child, includes: [count] }
      - { join_path: child.Base, prefix: true, includes: [status] }
`),
    ]);
    const child = model.cubes.get('child')!;
    expect([...child.measures.keys(), ...child.dimensions.keys()]).toEqual(['count', 'id', 'status']);
    expect(child.source.sql(recordingContext().ctx)).toBe('public.orders_2024');
    expect([...model.cubes.get('v')!.viewMembers!.keys()]).toEqual(['count', 'Base_status']);
  });

  it('resolves YAML anchors, aliases and merge keys, the merged mapping\'s own keys winning', () => {
    const model = loadModelFromSources([
      yml(`cubes:
  - name: orders
    sql_table: tessera_demo.orders
    dimensions:
      - &number_dim
        name: id
        sql: id
        type: number
        primary_key: true
      - <<: *number_dim
        name: user_id
        sql: user_id
        primary_key: false
    measures:
      - &money
        name: total
        sql: amount
        type: sum
        format: currency
      - <<: *money
        name: total_quantity
        sql: quantity
`),
    ]);
    const orders = model.cubes.get('orders')!;
    expect(orders.dimensions.get('user_id')).toMatchObject({ type: 'number', primaryKey: false });
    expect(orders.measures.get('total_quantity')).toMatchObject({ type: 'sum', format: 'currency' });
    expect(orders.measures.get('total_quantity')!.sql!(recordingContext().ctx)).toBe('quantity');
  });

  it('names the file, the line and the member of a YAML error', () => {
    const error = modelErrorOf([
      yml(`cubes:
  - name: orders
    sql_table: tessera_demo.orders
    measures:
      - name: count
        type: count

      - name: total
        sql: "{CUBE}.amount + {nope}"
        type: sum
`, 'cubes/orders.yml'),
    ]);
    expect(error).toBeInstanceOf(LocatedModelError);
    expect(error.file).toBe('cubes/orders.yml');
    expect((error as LocatedModelError).line).toBe(8);
    expect(error.member).toBe('orders.total');
    expect(error.message).toBe("cubes/orders.yml:8: orders.total: unknown reference 'nope': it is not a member of orders, a cube or a context variable");
  });

  it('reports YAML syntax errors with their line', () => {
    const error = modelErrorOf([yml('cubes:\n  - name: a\n    sql_table: [unclosed\n')]);
    expect(error.message).toMatch(/^model\.yml:\d+: is not valid YAML: /);
  });

  it('refuses top-level keys other than cubes and views, and entries without a name', () => {
    expect(modelErrorOf([yml('cube:\n  - name: a\n')]).message).toBe("model.yml:1: unknown top-level key 'cube'; expected cubes: or views:");
    expect(modelErrorOf([yml('cubes:\n  - sql_table: a\n')]).message).toBe('model.yml:2: each entry of cubes needs a name');
    expect(modelErrorOf([yml('cubes:\n  - name: a\n    sql_table: t\n    measures:\n      - type: count\n')]).message).toBe(
      'model.yml:5: a: an entry of measures needs a name',
    );
  });

  it('refuses an unknown key with its line instead of ignoring it', () => {
    const error = modelErrorOf([yml('cubes:\n  - name: a\n    sql_table: t\n    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_kee: true\n')]);
    expect(error.message).toBe("model.yml:5: a.id: unknown property 'primary_kee' in dimension");
  });

  it('reports every error of a folder, each with its line, when asked to collect them', () => {
    const errors = errorsOf([
      yml(`cubes:
  - name: a
    sql_table: t
    measures:
      - name: m1
        type: cuont
      - name: m2
        sql: "{missing}"
        type: sum
    dimensions:
      - name: d
        sql: d
        type: colour
`),
      js("cube('b', { sql: 'x', dimensions: { e: { sql: `${zzz}`, type: 'string' } } });", 'b.js'),
    ]);
    expect(errors.map((e) => e.message.split(': ').slice(0, 2).join(': '))).toEqual(['model.yml:5: a.m1', 'model.yml:7: a.m2', 'model.yml:11: a.d', 'b.js:1: b.e']);
  });

  it('treats an empty YAML file, or empty lists, as no definitions', () => {
    const model = loadModelFromSources([yml(''), yml('cubes:\nviews: []\n', 'b.yml'), js("cube('x', { sql_table: 't' });")]);
    expect([...model.cubes.keys()]).toEqual(['x']);
  });
});

describe('the Python expressions inside {…}', () => {
  it.each([
    ["FILTER_PARAMS.orders.created_at.filter('created_at')", 'FILTER_PARAMS.orders.created_at.filter("created_at")'],
    ['True', 'true'],
    ['x is None', 'x === null'],
    ['x is not None', 'x !== null'],
    ['a and not b', 'a && ! b'],
    ["FILTER_PARAMS.o.t.filter(lambda a, b: f'{a} >= {b}')", 'FILTER_PARAMS.o.t.filter(((a, b) => (`${a} >= ${b}`)))'],
  ])('%s → %s', (python, javascript) => {
    expect(pythonToJs(python)).toBe(javascript);
  });

  it('escapes backticks, backslashes and dollars of the literal text', () => {
    expect(yamlTemplateToJs('a`b\\c $d {CUBE}')).toBe('`a\\`b\\\\c \\$d ${CUBE}`');
  });

  it('renders a FILTER_PARAMS lambda from YAML the way the JS arrow function renders', () => {
    const model = loadModelFromSources([
      yml(`cubes:
  - name: o
    sql: "SELECT * FROM t WHERE {FILTER_PARAMS.o.day.filter(lambda a, b: f'created_at >= {a} AND created_at < {b}')}"
    dimensions:
      - { name: id, sql: id, type: number, primary_key: true }
      - { name: day, sql: created_at, type: time }
`),
    ]);
    const { ctx } = recordingContext({}, { filterParam: (_c, _m, column) => (typeof column === 'function' ? column('$1', '$2') : column) });
    expect(model.cubes.get('o')!.source.sql(ctx)).toBe('SELECT * FROM t WHERE created_at >= $1 AND created_at < $2');
  });
});
