import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { loadModelFromSources, type ModelSource } from '../../src/schema/load-model.js';
import type { Cube, Model } from '../../src/schema/model.js';
import { recordingContext } from './recording-context.js';

const load = (...files: ModelSource[]): Model => loadModelFromSources(files);
const file = (fileName: string, content: string): ModelSource => ({ fileName, content });
const cubeOf = (model: Model, name: string): Cube => {
  const cube = model.cubes.get(name);
  if (!cube) throw new Error(`no cube ${name}`);
  return cube;
};

const USERS = file(
  'Users.js',
  `cube('Users', {
    sql_table: 'tessera_demo.users',
    measures: { count: { type: 'count' } },
    dimensions: {
      id: { sql: \`\${CUBE}.id\`, type: 'number', primary_key: true },
      city: { sql: \`\${CUBE}.city\`, type: 'string' },
      secret: { sql: \`\${CUBE}.secret\`, type: 'string', shown: false },
    },
  });`,
);

describe('member SQL templates', () => {
  const model = load(
    file(
      'Orders.js',
      `cube('Orders', {
        sql: \`SELECT * FROM tessera_demo.orders\`,
        joins: { Users: { relationship: 'belongsTo', sql: \`\${CUBE}.user_id = \${Users}.id\` } },
        measures: {
          count: { type: 'count' },
          completed: { type: 'count', filters: [{ sql: \`\${CUBE}.status = 'completed'\` }, { sql: \`\${amount} > 0\` }] },
          ratio: { sql: \`\${completed} / NULLIF(\${count}, 0)\`, type: 'number' },
          perUser: { sql: \`\${CUBE.count} / NULLIF(\${Users.count}, 0)\`, type: 'number' },
          total: { sql: \`\${CUBE.amount}\`, type: 'sum' },
        },
        dimensions: {
          id: { sql: 'id', type: 'number', primaryKey: true },
          amount: { sql: \`\${CUBE}.amount\`, type: 'number' },
          localTime: { sql: SQL_UTILS.convertTz(\`\${CUBE}.created_at\`), type: 'time' },
        },
        segments: { big: { sql: \`\${amount} > 100\` } },
      });`,
    ),
    USERS,
  );
  const orders = cubeOf(model, 'Orders');

  it('renders ${CUBE} through cubeRef and bare and CUBE.member names through memberRef', () => {
    const { ctx } = recordingContext();
    expect(orders.measures.get('ratio')!.sql!(ctx)).toBe('{Orders.completed} / NULLIF({Orders.count}, 0)');
    expect(orders.measures.get('perUser')!.sql!(ctx)).toBe('{Orders.count} / NULLIF({Users.count}, 0)');
    expect(orders.measures.get('total')!.sql!(ctx)).toBe('{Orders.amount}');
    expect(orders.dimensions.get('amount')!.sql(ctx)).toBe('"Orders".amount');
    expect(orders.segments.get('big')!.sql(ctx)).toBe('{Orders.amount} > 100');
  });

  it('keeps a count without sql and renders measure filters', () => {
    const { ctx } = recordingContext();
    expect(orders.measures.get('count')!.sql).toBeUndefined();
    expect(orders.measures.get('completed')!.filters.map((f) => f(ctx))).toEqual(['"Orders".status = \'completed\'', '{Orders.amount} > 0']);
  });

  it('renders join sql with both cube references', () => {
    const { ctx } = recordingContext();
    expect(orders.joins.map((j) => [j.from, j.to, j.relationship, j.sql(ctx)])).toEqual([['Orders', 'Users', 'belongsTo', '"Orders".user_id = "Users".id']]);
  });

  it('renders SQL_UTILS.convertTz through the context, or unchanged without it', () => {
    expect(orders.dimensions.get('localTime')!.sql(recordingContext().ctx)).toBe('"Orders".created_at');
    const { ctx } = recordingContext({}, { convertTz: (sql) => `(${sql} AT TIME ZONE 'X')` });
    expect(orders.dimensions.get('localTime')!.sql(ctx)).toBe(`("Orders".created_at AT TIME ZONE 'X')`);
  });
});

describe('cube references', () => {
  it("renders another cube's source through ${Other.sql()}", () => {
    const model = load(USERS, file('Active.js', "cube('Active', { sql: `SELECT * FROM (${Users.sql()}) u WHERE u.active`, dimensions: { id: { sql: 'id', type: 'number' } } });"));
    expect(cubeOf(model, 'Active').source.sql(recordingContext().ctx)).toBe('SELECT * FROM (tessera_demo.users) u WHERE u.active');
  });
});

describe('keys and types', () => {
  const snake = file(
    'A.js',
    `cube('A', {
      sql_table: 'public.a',
      measures: {
        users: { sql: 'user_id', type: 'count_distinct', drill_members: [id], rolling_window: { trailing: '7 day', offset: 'start' } },
      },
      dimensions: { id: { sql: 'id', type: 'number', primary_key: true, public: true }, sub: { sql: 'x', type: 'number', sub_query: true } },
    });`,
  );
  const camel = file(
    'A.js',
    `cube('A', {
      sqlTable: 'public.a',
      measures: {
        users: { sql: 'user_id', type: 'countDistinct', drillMembers: [id], rollingWindow: { trailing: '7 day', offset: 'start' } },
      },
      dimensions: { id: { sql: 'id', type: 'number', primaryKey: true, public: true }, sub: { sql: 'x', type: 'number', subQuery: true } },
    });`,
  );

  it('reads snake_case and camelCase keys alike', () => {
    for (const source of [snake, camel]) {
      const a = cubeOf(load(source), 'A');
      const users = a.measures.get('users')!;
      expect(a.source.kind).toBe('table');
      expect(a.source.sql(recordingContext().ctx)).toBe('public.a');
      expect(users.type).toBe('countDistinct');
      expect(users.drillMembers).toEqual(['A.id']);
      expect(users.rollingWindow).toEqual({ trailing: '7 day', leading: undefined, offset: 'start', type: undefined, granularity: undefined });
      expect(a.dimensions.get('id')!.primaryKey).toBe(true);
      expect(a.dimensions.get('sub')!.subQuery).toBe(true);
    }
  });

  it('derives titles as Cube does and keeps explicit ones', () => {
    const model = load(
      file(
        'OrderItems.js',
        `cube('OrderItems', {
          sql_table: 'x',
          measures: { totalAmount: { sql: 'a', type: 'sum' }, avg_price: { sql: 'p', type: 'avg', title: 'Mean price' } },
          dimensions: { createdAt: { sql: 'c', type: 'time' } },
        });`,
      ),
    );
    const items = cubeOf(model, 'OrderItems');
    expect(items.title).toBe('Order Items');
    expect([items.measures.get('totalAmount')!.title, items.measures.get('totalAmount')!.shortTitle]).toEqual(['Order Items Total Amount', 'Total Amount']);
    expect([items.measures.get('avg_price')!.title, items.measures.get('avg_price')!.shortTitle]).toEqual(['Order Items Mean price', 'Mean price']);
    expect(items.dimensions.get('createdAt')!.title).toBe('Order Items Created at');
  });
});

describe('visibility', () => {
  const model = load(
    file(
      'V.js',
      `cube('Vis', {
        sql_table: 'x',
        measures: { a: { type: 'count' }, b: { type: 'count', shown: false }, c: { type: 'count', public: true, shown: false } },
        dimensions: { id: { sql: 'id', type: 'number', primaryKey: true }, id2: { sql: 'id2', type: 'number', primaryKey: true, public: true } },
        segments: { s: { sql: '1 = 1', public: false } },
      });
      cube('Hidden', { sql_table: 'h', public: false, measures: { count: { type: 'count' } } });`,
    ),
  );

  it('lets public win over shown and hides primary keys by default', () => {
    const vis = cubeOf(model, 'Vis');
    expect(['a', 'b', 'c'].map((m) => vis.measures.get(m)!.public)).toEqual([true, false, true]);
    expect(vis.dimensions.get('id')!.public).toBe(false);
    expect(vis.dimensions.get('id2')!.public).toBe(true);
    expect(vis.segments.get('s')!.public).toBe(false);
  });

  it('hides every member of a cube with public: false', () => {
    const hidden = cubeOf(model, 'Hidden');
    expect(hidden.public).toBe(false);
    expect(hidden.measures.get('count')!.public).toBe(false);
  });
});

describe('extends', () => {
  const model = load(
    file(
      'Base.js',
      `cube('Base', {
        sql: \`SELECT * FROM public.events\`,
        title: 'Events',
        measures: { count: { type: 'count' }, total: { sql: \`\${CUBE}.amount\`, type: 'sum' } },
        dimensions: { id: { sql: \`\${CUBE}.id\`, type: 'number', primaryKey: true }, kind: { sql: \`\${CUBE}.kind\`, type: 'string' } },
      });`,
    ),
    file(
      'Child.js',
      `cube('Child', {
        extends: Base,
        sql_table: 'public.child_events',
        measures: { total: { sql: \`\${CUBE}.amount * 2\`, type: 'sum' }, ratio: { sql: \`\${total} / \${count}\`, type: 'number' } },
      });`,
    ),
  );

  it('copies the parent members, lets the child override them, and renders CUBE as the child', () => {
    const child = cubeOf(model, 'Child');
    const { ctx } = recordingContext();
    expect([...child.measures.keys()]).toEqual(['count', 'total', 'ratio']);
    expect([...child.dimensions.keys()]).toEqual(['id', 'kind']);
    expect(child.dimensions.get('kind')!.sql(ctx)).toBe('"Child".kind');
    expect(child.measures.get('total')!.sql!(ctx)).toBe('"Child".amount * 2');
    expect(child.measures.get('ratio')!.sql!(ctx)).toBe('{Child.total} / {Child.count}');
    expect(child.dimensions.get('kind')!.cube).toBe('Child');
  });

  it('replaces the parent sql with the child sqlTable and inherits other properties', () => {
    const child = cubeOf(model, 'Child');
    expect(child.source.kind).toBe('table');
    expect(child.source.sql(recordingContext().ctx)).toBe('public.child_events');
    expect(child.title).toBe('Events');
    expect(cubeOf(model, 'Base').source.kind).toBe('sql');
  });
});

describe('joins', () => {
  const target = (name: string) =>
    file(`${name}.js`, `cube('${name}', { sql_table: '${name.toLowerCase()}', dimensions: { id: { sql: 'id', type: 'number', primaryKey: true } } });`);

  it('accepts the map and list forms and every relationship alias', () => {
    const model = load(
      file(
        'Hub.js',
        `cube('Hub', {
          sql_table: 'hub',
          joins: [
            { name: 'A', relationship: 'many_to_one', sql: '1 = 1' },
            { name: 'B', relationship: 'one_to_many', sql: '1 = 1' },
            { name: 'C', relationship: 'one_to_one', sql: '1 = 1' },
          ],
        });
        cube('Hub2', {
          sql_table: 'hub2',
          joins: { A: { relationship: 'belongs_to', sql: '1 = 1' }, B: { relationship: 'hasMany', sql: '1 = 1' }, C: { relationship: 'has_one', sql: '1 = 1' } },
        });`,
      ),
      target('A'),
      target('B'),
      target('C'),
    );
    for (const hub of ['Hub', 'Hub2']) {
      expect(cubeOf(model, hub).joins.map((j) => [j.to, j.relationship])).toEqual([
        ['A', 'belongsTo'],
        ['B', 'hasMany'],
        ['C', 'hasOne'],
      ]);
    }
  });
});

describe('case and subQuery dimensions', () => {
  const model = load(
    file(
      'T.js',
      `cube('T', {
        sql_table: 't',
        measures: { count: { type: 'count' } },
        dimensions: {
          size: {
            type: 'string',
            case: {
              when: [
                { sql: \`\${CUBE}.n < 10\`, label: "it's small" },
                { sql: \`\${CUBE}.n < 100\`, label: { sql: \`\${CUBE}.label\` } },
              ],
              else: { label: 'large' },
            },
          },
          counted: { sql: \`\${count}\`, type: 'number', sub_query: true },
        },
      });`,
    ),
  );

  it('renders a case dimension with escaped literal labels and sql labels', () => {
    const size = cubeOf(model, 'T').dimensions.get('size')!;
    expect(size.sql(recordingContext().ctx)).toBe(`CASE WHEN ("T".n < 10) THEN 'it''s small' WHEN ("T".n < 100) THEN "T".label ELSE 'large' END`);
    expect(size.case!.when.map((w) => w.label)).toEqual(["it's small", expect.objectContaining({ sql: expect.any(Function) })]);
  });

  it('lets a subQuery dimension reference a measure', () => {
    expect(cubeOf(model, 'T').dimensions.get('counted')!.sql(recordingContext().ctx)).toBe('{T.count}');
  });
});

describe('FILTER_PARAMS and FILTER_GROUP', () => {
  const model = load(
    file(
      'Orders.js',
      `cube('Orders', {
        sql: \`SELECT * FROM orders WHERE \${FILTER_PARAMS.Orders.status.filter('status')} AND \${FILTER_GROUP(FILTER_PARAMS.Orders.status.filter('s'), FILTER_PARAMS.Orders.amount.filter((v) => \`a > \${v}\`))}\`,
        dimensions: { status: { sql: 'status', type: 'string' }, amount: { sql: 'amount', type: 'number' } },
      });`,
    ),
  );
  const source = cubeOf(model, 'Orders').source.sql;

  it('renders 1 = 1 when the compiler gives no filter', () => {
    expect(source(recordingContext().ctx)).toBe('SELECT * FROM orders WHERE 1 = 1 AND (1 = 1) AND (1 = 1)');
  });

  it('asks the compiler for the query filter of each member', () => {
    const { ctx } = recordingContext(
      {},
      {
        filterParam: (cube, member, column) => (typeof column === 'string' ? `${column} = <${cube}.${member}>` : String(column('$9'))),
      },
    );
    expect(source(ctx)).toBe('SELECT * FROM orders WHERE status = <Orders.status> AND (s = <Orders.status>) AND (a > $9)');
  });

  it('hands a FILTER_GROUP to the compiler when it can combine filters', () => {
    const { ctx } = recordingContext({}, { filterGroup: (items) => items.map((i) => `${i.cube}.${i.member}`).join(' OR ') });
    expect(source(ctx)).toBe('SELECT * FROM orders WHERE 1 = 1 AND Orders.status OR Orders.amount');
  });
});

describe('file scope', () => {
  it('keeps file-level variables and functions as closures and allows builtins', () => {
    const model = load(
      file(
        'Scoped.js',
        `const schemaName = 'public';
        function col(name) { return name.toUpperCase(); }
        cube('Scoped', {
          sql_table: \`\${schemaName}.scoped\`,
          dimensions: { id: { sql: \`\${CUBE}.\${col('id')} + \${Math.max(1, 2)}\`, type: 'number' } },
        });`,
      ),
    );
    const scoped = cubeOf(model, 'Scoped');
    const { ctx } = recordingContext();
    expect(scoped.source.sql(ctx)).toBe('public.scoped');
    expect(scoped.dimensions.get('id')!.sql(ctx)).toBe('"Scoped".ID + 2');
  });

  it('does not give model files the file system or process', () => {
    expect(() => load(file('R.js', "require('fs');"))).toThrow("R.js: require('fs') is not allowed");
    expect(() => load(file('P.js', 'process.exit(1);'))).toThrow('P.js:1: throws while loading: process is not defined');
  });
});

describe('views', () => {
  const model = load(
    file(
      'Orders.js',
      `cube('Orders', {
        sql_table: 'tessera_demo.orders',
        public: false,
        joins: { Users: { relationship: 'belongsTo', sql: \`\${CUBE}.user_id = \${Users}.id\` } },
        measures: { count: { type: 'count' }, total: { sql: 'amount', type: 'sum', title: 'Revenue' }, internal: { type: 'count', public: false } },
        dimensions: { id: { sql: 'id', type: 'number', primaryKey: true }, status: { sql: 'status', type: 'string' } },
      });`,
    ),
    USERS,
    file(
      'Overview.js',
      `view('Overview', {
        cubes: [
          { join_path: Orders, includes: '*', excludes: ['id'] },
          { join_path: Orders.Users, prefix: true, includes: '*' },
          { joinPath: Orders.Users, includes: [{ name: 'city', alias: 'userCity', title: 'Home town' }] },
        ],
      });`,
    ),
  );
  const view = cubeOf(model, 'Overview');

  it('does not re-expose members hidden on the cube through includes *', () => {
    expect([...view.measures.keys()]).toEqual(['count', 'total', 'Users_count']);
    // Users.id is a primary key, hidden by default: '*' leaves it out as well (list it by name to expose it).
    expect([...view.dimensions.keys()]).toEqual(['status', 'Users_city', 'userCity']);
    expect(view.dimensions.has('Users_secret')).toBe(false);
    expect(view.measures.has('internal')).toBe(false);
  });

  it('exposes members of a hidden cube, mapped to the cube member and its join path', () => {
    expect(view.kind).toBe('view');
    expect(view.public).toBe(true);
    expect(view.measures.get('count')!.public).toBe(true);
    expect(view.viewMembers!.get('Users_city')).toEqual({ cube: 'Users', member: 'city', joinPath: ['Orders', 'Users'] });
    expect(view.viewMembers!.get('total')).toEqual({ cube: 'Orders', member: 'total', joinPath: ['Orders'] });
  });

  it('makes view measures number measures over the cube measure, as Cube does', () => {
    const total = view.measures.get('total')!;
    expect([total.type, total.aggType, total.title, total.shortTitle]).toEqual(['number', 'sum', 'Overview Revenue', 'Revenue']);
    expect(total.sql!(recordingContext().ctx)).toBe('{Orders.total}');
    expect(view.dimensions.get('userCity')!.title).toBe('Overview Home town');
  });

  it("accepts Cube's older top-level includes form", () => {
    const legacy = load(USERS, file('L.js', "view('L', { includes: [Users.count, Users.city] });"));
    expect(cubeOf(legacy, 'L').viewMembers).toEqual(
      new Map([
        ['count', { cube: 'Users', member: 'count', joinPath: ['Users'] }],
        ['city', { cube: 'Users', member: 'city', joinPath: ['Users'] }],
      ]),
    );
  });

  it('has no SQL source of its own', () => {
    expect(() => view.source.sql(recordingContext().ctx)).toThrow(EngineError);
  });
});

describe('access policies', () => {
  const model = load(
    file(
      'Orders.js',
      `cube('Orders', {
        sql_table: 'tessera_demo.orders',
        measures: { count: { type: 'count' } },
        dimensions: { id: { sql: 'id', type: 'number', primaryKey: true }, tenantId: { sql: 'tenant_id', type: 'number' }, status: { sql: 'status', type: 'string' } },
        access_policy: [
          { group: '*', member_level: { includes: ['count', 'status'] }, row_level: { filters: [{ member: \`\${CUBE}.tenantId\`, operator: 'equals', values: [securityContext.tenant_id] }] } },
          {
            groups: ['admin', 'ops'],
            conditions: [{ if: security_context.level > 2 }],
            memberLevel: { excludes: ['id'] },
            rowLevel: { filters: [{ or: [{ member: 'status', operator: 'equals', values: ['open'] }, { member: 'Orders.tenantId', operator: 'set' }] }] },
          },
          { group: 'root', row_level: { allow_all: true } },
        ],
      });`,
    ),
  );
  const [open, admins, root] = cubeOf(model, 'Orders').accessPolicy!;

  it('parses groups, member levels and allow-all', () => {
    expect(open!.groups).toEqual(['*']);
    expect(open!.memberLevel).toEqual({ includes: ['Orders.count', 'Orders.status'], excludes: [] });
    expect(admins!.groups).toEqual(['admin', 'ops']);
    expect(admins!.memberLevel).toEqual({ includes: '*', excludes: ['Orders.id'] });
    expect(root!.rowLevel).toEqual({ allowAll: true });
    expect(root!.memberLevel).toBeUndefined();
  });

  it('evaluates row filter values and conditions with each security context', () => {
    const rowLevel = open!.rowLevel as { filters: (ctx: object) => readonly unknown[] };
    expect(rowLevel.filters({ tenant_id: 7 })).toEqual([{ member: 'Orders.tenantId', operator: 'equals', values: [7] }]);
    expect(rowLevel.filters({})).toEqual([{ member: 'Orders.tenantId', operator: 'equals', values: [undefined] }]);
    expect(admins!.conditions.map((c) => c({ level: 3 }))).toEqual([true]);
    expect(admins!.conditions.map((c) => c({ level: 1 }))).toEqual([false]);
  });

  it('keeps and/or groups in row filters', () => {
    const rowLevel = admins!.rowLevel as { filters: (ctx: object) => readonly unknown[] };
    expect(rowLevel.filters({})).toEqual([
      { or: [{ member: 'Orders.status', operator: 'equals', values: ['open'] }, { member: 'Orders.tenantId', operator: 'set' }] },
    ]);
  });
});
