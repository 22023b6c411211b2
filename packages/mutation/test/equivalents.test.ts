import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { checkEquivalents, judge, parseEquivalents, selectTargets, type Equivalent, type Mutant } from '../src/index.js';

function mutant(id: string, overrides: Partial<Mutant> = {}): Mutant {
  return {
    id,
    file: 'apps/api/src/http/problem.ts',
    mutator: 'ConditionalExpression',
    line: 10,
    column: 5,
    original: 'a === b',
    replacement: 'true',
    status: 'Survived',
    killedBy: [],
    ...overrides,
  };
}

const reason = 'both branches answer the same status with the same body';

function entry(overrides: Partial<Equivalent> = {}): Equivalent {
  return { file: 'apps/api/src/http/problem.ts', mutator: 'ConditionalExpression', original: 'a === b', replacement: 'true', reason, ...overrides };
}

describe('the equivalents file', () => {
  test('the one in the repository is valid', async () => {
    const text = await readFile(new URL('../../equivalents.json', import.meta.url), 'utf8');
    assert.doesNotThrow(() => parseEquivalents(JSON.parse(text)));
  });

  test('each entry needs a source file, a reason worth the name, and the text or the line it replaces', () => {
    assert.deepEqual(parseEquivalents([entry()]), [entry()]);
    const bad = [
      entry({ file: 'apps/api/test/app.test.ts' }),
      entry({ reason: 'same' }),
      { file: 'apps/api/src/visits.ts', mutator: 'X', replacement: '', reason },
      { ...entry(), extra: true },
      entry({ column: 3 }),
    ];
    assert.throws(() => parseEquivalents(bad), (error: Error) => {
      assert.match(error.message, /^equivalents\.json is not valid:/);
      assert.match(error.message, /\[0\.file\] must be a source file/);
      assert.match(error.message, /\[1\.reason\] must say why the change cannot alter behaviour/);
      assert.match(error.message, /\[2\] needs original \(the replaced text\) or line/);
      assert.match(error.message, /\[3\] .*extra/);
      assert.match(error.message, /\[4\] a column needs its line/);
      return true;
    });
  });
});

describe('matching equivalents to mutants', () => {
  test('an entry explains the surviving mutant with its file, mutator, text and replacement, whatever the whitespace', () => {
    const multiline = mutant('2', { original: '{\n    return a;\n  }', replacement: '{}', mutator: 'BlockStatement' });
    const check = checkEquivalents(
      [entry(), entry({ mutator: 'BlockStatement', original: '{ return a; }', replacement: '{}' })],
      [mutant('1'), multiline, mutant('3', { status: 'NoCoverage', replacement: 'false' })],
    );
    assert.deepEqual([...check.explained], ['1', '2']);
    assert.deepEqual([check.stale, check.ambiguous, check.detected], [[], [], []]);
  });

  test('a mutant that differs in any of them is not explained', () => {
    for (const other of [
      { file: 'apps/api/src/http/exchange.ts' },
      { mutator: 'EqualityOperator' },
      { original: 'a !== b' },
      { replacement: 'false' },
    ]) {
      const check = checkEquivalents([entry()], [mutant('1', other)]);
      assert.equal(check.explained.size, 0, JSON.stringify(other));
      assert.deepEqual(check.stale, [entry()], 'and the entry is stale');
    }
  });

  test('an entry matching two mutants is ambiguous until it names a line', () => {
    const twins = [mutant('1'), mutant('2', { line: 20 })];
    const check = checkEquivalents([entry()], twins);
    assert.equal(check.explained.size, 0);
    assert.deepEqual(check.ambiguous.map(({ mutants }) => mutants.map((m) => m.id)), [['1', '2']]);
    assert.deepEqual([...checkEquivalents([entry({ line: 20 })], twins).explained], ['2']);
    const neighbours = [mutant('1'), mutant('2', { column: 30 })];
    assert.equal(checkEquivalents([entry({ line: 10 })], neighbours).ambiguous.length, 1);
    assert.deepEqual([...checkEquivalents([entry({ line: 10, column: 30 })], neighbours).explained], ['2']);
  });

  test('a listed mutant that a test kills is not equivalent', () => {
    const check = checkEquivalents([entry()], [mutant('1', { status: 'Killed', killedBy: ['app.test.js'] })]);
    assert.equal(check.explained.size, 0);
    assert.equal(check.detected.length, 1);
  });

  test('a listed mutant whose tests timed out, none failing, is explained and said: a busy machine times out equivalents', () => {
    const check = checkEquivalents([entry()], [mutant('1', { status: 'Timeout' })]);
    assert.deepEqual([...check.explained], ['1']);
    assert.deepEqual(check.detected, []);
    assert.deepEqual(check.timedOut.map(({ mutant: timed }) => timed.id), ['1']);
  });

  test('a listed mutant that no longer compiles is left with nothing to explain: stale', () => {
    const check = checkEquivalents([entry()], [mutant('1', { status: 'CompileError' })]);
    assert.deepEqual(check.stale, [entry()]);
  });
});

describe('the verdict', () => {
  const [http, routes] = selectTargets(['api-http', 'api-routes']);
  assert.ok(http && routes);
  const routeMutant = (id: string, status: Mutant['status']): Mutant => mutant(id, { file: 'apps/api/src/routes/load.ts', status, replacement: `r${id}` });

  test('passes when every survivor is listed, scoring each target on its own files', () => {
    const mutants = [mutant('1'), mutant('2', { status: 'Killed', replacement: 'false' }), routeMutant('3', 'Killed'), routeMutant('4', 'Timeout')];
    const verdict = judge([http, routes], mutants, [entry()]);
    assert.ok(verdict.ok);
    assert.deepEqual(
      verdict.results.map(({ score }) => [score.target, score.mutants, score.killed, score.timeout, score.equivalent, score.percent]),
      [
        ['api-http', 2, 1, 0, 1, 100],
        ['api-routes', 2, 1, 1, 0, 100],
      ],
    );
  });

  test('fails on a survivor neither killed nor listed, naming it under its target', () => {
    const verdict = judge([http, routes], [mutant('1'), routeMutant('2', 'NoCoverage')], [entry()]);
    assert.ok(!verdict.ok);
    assert.deepEqual(verdict.results.map(({ unexplained }) => unexplained.map((m) => m.id)), [[], ['2']]);
  });

  test('fails on a stale entry of a target that ran, and ignores the entries of targets that did not', () => {
    const staleHere = entry({ original: 'gone' });
    const elsewhere = entry({ file: 'apps/api/src/visits.ts' });
    const verdict = judge([http], [mutant('1')], [entry(), staleHere, elsewhere]);
    assert.deepEqual(verdict.stale, [staleHere]);
    assert.ok(!verdict.ok);
    assert.ok(judge([http], [mutant('1')], [entry(), elsewhere]).ok);
  });
});
