import { describe, expect, it } from 'vitest';
import { modelErrorOf } from './model-error-of.js';
import { LocatedModelError } from '../../src/schema/load/located-error.js';
import { loadModel, type ModelSource } from '../../src/schema/load-model.js';

/** A one-file model: `Orders.js` with a source, a primary key and the given extra definition text. */
function orders(extra: string): ModelSource {
  return {
    fileName: 'Orders.js',
    content: `cube('Orders', {
      sql: \`SELECT * FROM tessera_demo.orders\`,
      ${extra}
    });`,
  };
}

const USERS: ModelSource = {
  fileName: 'Users.js',
  content: "cube('Users', { sql_table: 'tessera_demo.users', measures: { count: { type: 'count' } }, dimensions: { id: { sql: 'id', type: 'number', primary_key: true } } });",
};

describe('model errors name the file and the member', () => {
  it.each<[string, readonly ModelSource[], string, string | undefined, RegExp]>([
    [
      'an unknown identifier in sql',
      [orders('measures: { total: { sql: `${CUBE}.a + ${nope}`, type: `sum` } }')],
      'Orders.js', 'Orders.total', /unknown reference 'nope'/,
    ],
    [
      'an unknown member of another cube',
      [orders('measures: { ratio: { sql: `${Users.nope}`, type: `number` } }'), USERS],
      'Orders.js', 'Orders.ratio', /Users\.nope cannot be resolved/,
    ],
    [
      'an unknown member through CUBE',
      [orders('dimensions: { x: { sql: `${CUBE.missing}`, type: `string` } }')],
      'Orders.js', 'Orders.x', /Orders\.missing cannot be resolved/,
    ],
    [
      'a join to an unknown cube',
      [orders("joins: { Nope: { sql: `${CUBE}.a = 1`, relationship: 'belongsTo' } }")],
      'Orders.js', 'Orders.joins.Nope', /join target Nope is not a cube/,
    ],
    [
      'a duplicate cube name across files',
      [orders(''), { fileName: 'More.js', content: "cube('Orders', { sql_table: 'x' });" }],
      'More.js', 'Orders', /cube Orders is already defined in Orders\.js/,
    ],
    [
      'a name used by a measure and a dimension',
      [orders("measures: { status: { type: 'count' } }, dimensions: { status: { sql: 'status', type: 'string' } }")],
      'Orders.js', 'Orders.status', /status defined more than once/,
    ],
    [
      'a duplicate key in an object literal',
      [orders("measures: { count: { type: 'count' }, count: { type: 'sum', sql: 'a' } }")],
      'Orders.js', 'Orders.measures.count', /duplicate property 'count'/,
    ],
    [
      'a bad measure type',
      [orders("measures: { total: { sql: 'a', type: 'summ' } }")],
      'Orders.js', 'Orders.total', /measure type must be one of count, countDistinct.*got summ/,
    ],
    [
      'a bad dimension type',
      [orders("dimensions: { at: { sql: 'a', type: 'date' } }")],
      'Orders.js', 'Orders.at', /dimension type must be one of string, number, time, boolean, got date/,
    ],
    [
      'the removed runningTotal type',
      [orders("measures: { total: { sql: 'a', type: 'running_total' } }")],
      'Orders.js', 'Orders.total', /runningTotal has been removed/,
    ],
    [
      'a sum measure without sql',
      [orders("measures: { total: { type: 'sum' } }")],
      'Orders.js', 'Orders.total', /sql is required for a sum measure/,
    ],
    [
      'a misspelt property',
      [orders("dimensions: { id: { sql: 'id', type: 'number', primarykey: true } }")],
      'Orders.js', 'Orders.id', /unknown property 'primarykey' in dimension/,
    ],
    [
      'a property given in both snake_case and camelCase',
      [orders("dimensions: { id: { sql: 'id', type: 'number', primaryKey: true, primary_key: true } }")],
      'Orders.js', 'Orders.id', /both 'primaryKey' and 'primary_key' are set/,
    ],
    [
      'a bad join relationship',
      [orders("joins: { Users: { sql: '1 = 1', relationship: 'belongs' } }, dimensions: { id: { sql: 'id', type: 'number', primaryKey: true } }"), USERS],
      'Orders.js', 'Orders.joins.Users', /join relationship must be one of belongsTo/,
    ],
    [
      'a cube in a join without a primary key but with additive measures',
      [orders("joins: { Users: { sql: '1 = 1', relationship: 'belongsTo' } }, measures: { total: { sql: 'a', type: 'sum' } }"), USERS],
      'Orders.js', 'Orders', /primary key for 'Orders' is required when join is defined in order to make aggregates work properly/,
    ],
    [
      'a circular reference between members',
      [orders('measures: { a: { sql: `${b} + 1`, type: `number` }, b: { sql: `${a} + 1`, type: `number` } }')],
      'Orders.js', 'Orders.a', /circular reference: Orders\.a -> Orders\.b -> Orders\.a/,
    ],
    [
      'a dimension that references a measure without subQuery',
      [orders("measures: { count: { type: 'count' } }, dimensions: { c: { sql: `${count}`, type: 'number' } }")],
      'Orders.js', 'Orders.c', /references measure Orders\.count/,
    ],
    [
      'a sum over another measure',
      [orders("measures: { count: { type: 'count' }, s: { sql: `${count}`, type: 'sum' } }")],
      'Orders.js', 'Orders.s', /references measure Orders\.count/,
    ],
    [
      'FILTER_PARAMS naming an unknown member',
      [{ fileName: 'Orders.js', content: "cube('Orders', { sql: `SELECT 1 WHERE ${FILTER_PARAMS.Orders.nope.filter('x')}` });" }],
      'Orders.js', 'Orders.sql', /FILTER_PARAMS\.Orders\.nope cannot be resolved/,
    ],
    [
      'an unknown drill member',
      [orders("measures: { count: { type: 'count', drillMembers: [nope] } }")],
      'Orders.js', 'Orders.count.drillMembers', /unknown reference 'nope'/,
    ],
    [
      'a drill member of another cube that does not exist',
      [orders("measures: { count: { type: 'count', drill_members: [Users.nope] } }"), USERS],
      'Orders.js', 'Orders.count', /drill member Users\.nope cannot be resolved/,
    ],
    [
      'both sql and sqlTable',
      [{ fileName: 'Orders.js', content: "cube('Orders', { sql: 'SELECT 1', sql_table: 'x' });" }],
      'Orders.js', 'Orders', /You must use either sql or sqlTable within a model, but not both/,
    ],
    [
      'neither sql nor sqlTable',
      [{ fileName: 'Orders.js', content: "cube('Orders', { measures: {} });" }],
      'Orders.js', 'Orders', /You must use either sql or sqlTable/,
    ],
    [
      'extends naming an unknown cube',
      [{ fileName: 'Child.js', content: "cube('Child', { extends: Nope, sql_table: 'x' });" }],
      'Child.js', 'Child.extends', /unknown reference 'Nope'/,
    ],
    [
      'an extends cycle',
      [
        { fileName: 'A.js', content: "cube('A', { extends: B, sql_table: 'a' });" },
        { fileName: 'B.js', content: "cube('B', { extends: A, sql_table: 'b' });" },
      ],
      'B.js', 'B', /extends cycle: A -> B -> A/,
    ],
    [
      'an unsupported multi-stage measure',
      [orders("measures: { m: { sql: 'a', type: 'sum', multi_stage: true } }")],
      'Orders.js', 'Orders.m', /multi-stage members are not supported/,
    ],
    [
      'member masking, which would otherwise show unmasked values',
      [orders("measures: { m: { type: 'count', mask: 'x' } }")],
      'Orders.js', 'Orders.m', /member masking is not supported \('mask'\)/,
    ],
    [
      'a calendar cube',
      [orders('calendar: true')],
      'Orders.js', 'Orders', /calendar cubes are not supported/,
    ],
    [
      'a view including an unknown member',
      [USERS, { fileName: 'V.js', content: "view('V', { cubes: [{ join_path: Users, includes: ['nope'] }] });" }],
      'V.js', 'V.cubes.0', /Member 'nope' is included in 'V' but not defined in any cube/,
    ],
    [
      'a view excluding an unknown member',
      [USERS, { fileName: 'V.js', content: "view('V', { cubes: [{ join_path: Users, includes: '*', excludes: ['cuont'] }] });" }],
      'V.js', 'V.cubes.0', /excluded member 'cuont' is not defined in Users/,
    ],
    [
      'a view join path with no such join',
      [orders("dimensions: { id: { sql: 'id', type: 'number', primaryKey: true } }"), USERS, { fileName: 'V.js', content: "view('V', { cubes: [{ join_path: Orders.Users, includes: '*' }] });" }],
      'V.js', 'V.cubes.0', /join_path Orders\.Users: Orders has no join to Users/,
    ],
    [
      'a rolling window with a malformed interval',
      [orders("measures: { r: { sql: 'a', type: 'sum', rolling_window: { trailing: 'seven days' } } }")],
      'Orders.js', 'Orders.r', /rollingWindow\.trailing must be 'unbounded' or like '7 day', got 'seven days'/,
    ],
    [
      'a to_date rolling window without a granularity',
      [orders("measures: { r: { sql: 'a', type: 'sum', rollingWindow: { type: 'to_date' } } }")],
      'Orders.js', 'Orders.r', /rollingWindow of type to_date needs a granularity/,
    ],
    [
      'a view referenced from SQL',
      [USERS, { fileName: 'V.js', content: "view('V', { cubes: [{ join_path: Users, includes: ['city'] }] });" }, orders('dimensions: { x: { sql: `${V.city}`, type: `string` } }')],
      'Orders.js', 'Orders.x', /view V cannot be referenced from SQL/,
    ],
    [
      'an access policy with both group and groups',
      [orders("accessPolicy: [{ group: 'a', groups: ['b'] }]")],
      'Orders.js', 'Orders.accessPolicy.0', /Access policy cannot have both 'group' and 'groups' properties\./,
    ],
    [
      'an access policy with the removed role key',
      [orders("access_policy: [{ role: 'admin' }]")],
      'Orders.js', 'Orders.accessPolicy.0', /'role' is no longer supported/,
    ],
    [
      'a cube reference in an access policy condition',
      [orders("access_policy: [{ group: '*', conditions: [{ if: Users.count }] }]"), USERS],
      'Orders.js', 'Orders.accessPolicy.0.conditions.0', /Cube references are not allowed when evaluating RLS conditions or filters\. Found: Users in Orders/,
    ],
    [
      'a row filter on an unknown member',
      [orders("access_policy: [{ group: '*', row_level: { filters: [{ member: 'nope', operator: 'equals', values: [securityContext.x] }] } }]")],
      'Orders.js', 'Orders.accessPolicy.0', /rowLevel\.filters\.0\.member nope cannot be resolved/,
    ],
  ])('reports %s', (_name, files, file, member, message) => {
    const error = modelErrorOf(files);
    expect(error.file).toBe(file);
    expect(error.member).toBe(member);
    expect(error.message).toMatch(message);
    // The line follows the file name when the member's definition is found in it.
    const line = error instanceof LocatedModelError && error.line !== undefined ? `:${error.line}` : '';
    expect(error.message.startsWith(member ? `${file}${line}: ${member}: ` : `${file}${line}: `)).toBe(true);
  });

  it('reports a file that throws, naming the file', () => {
    const error = modelErrorOf([{ fileName: 'Broken.js', content: "throw new Error('boom');" }]);
    expect(error.file).toBe('Broken.js');
    expect(error.message).toBe('Broken.js:1: throws while loading: boom');
  });

  it('reports a file that cannot be parsed, with the position', () => {
    const error = modelErrorOf([{ fileName: 'Broken.js', content: "cube('X', {" }]);
    expect(error.file).toBe('Broken.js');
    expect(error.message).toMatch(/^Broken\.js: cannot be parsed: Unexpected token \(1:11\)$/);
  });

  it('reports a cube name that is not an identifier', () => {
    const error = modelErrorOf([{ fileName: 'Bad.js', content: "cube('my cube', { sql_table: 'x' });" }]);
    expect(error.message).toBe('Bad.js: cube() needs a name that is an identifier, got "my cube"');
  });

  it('refuses a model directory that does not exist', async () => {
    await expect(loadModel('/nonexistent/tessera-schema')).rejects.toThrow('model directory /nonexistent/tessera-schema does not exist');
  });
});
