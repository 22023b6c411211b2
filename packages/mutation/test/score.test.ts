import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeMutant, formatScores, mutantsOf, scoreOf, type Mutant, type MutationTestResult } from '../src/index.js';

const statuses: Mutant['status'][] = ['Killed', 'Killed', 'Killed', 'Timeout', 'Survived', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError'];
const mutants: Mutant[] = statuses.map((status, index) => ({
  id: String(index),
  file: 'packages/shared/src/http.ts',
  mutator: 'ConditionalExpression',
  line: index + 1,
  column: 1,
  original: 'x',
  replacement: 'true',
  status,
  killedBy: [],
}));

describe('the score', () => {
  test('counts each status; the detected share leaves out what never ran a test', () => {
    const score = scoreOf('shared', mutants, new Set());
    assert.deepEqual(
      { ...score, percent: score.percent?.toFixed(2) },
      {
        target: 'shared',
        mutants: 9,
        killed: 3,
        timeout: 1,
        survived: 2,
        noCoverage: 1,
        equivalent: 0,
        compileError: 1,
        runtimeError: 1,
        // (3 killed + 1 timeout) of the 7 that ran or could have.
        percent: ((4 / 7) * 100).toFixed(2),
      },
    );
  });

  test('listed equivalents leave the survivors and the denominator', () => {
    const score = scoreOf('shared', mutants, new Set(['4', '6']));
    assert.deepEqual([score.survived, score.noCoverage, score.equivalent, score.percent], [1, 0, 2, 80]);
  });

  test('is undefined with nothing to score', () => {
    assert.equal(scoreOf('edge', [], new Set()).percent, undefined);
  });

  test('prints as a table, one row per target, numbers aligned right', () => {
    const table = formatScores([scoreOf('shared', mutants, new Set()), scoreOf('api-visits', [], new Set())]);
    assert.equal(
      table,
      [
        'target      mutants  killed  timeout  survived  no coverage  equivalent  no compile  errors  score',
        'shared            9       3        1         2            1           0           1       1  57.1%',
        'api-visits        0       0        0         0            0           0           0       0    n/a',
      ].join('\n'),
    );
  });
});

describe('reading a Stryker report', () => {
  const source = "export function f(a: number) {\n  return a > 1 ? 'big' : 'small';\n}\n";
  const report: MutationTestResult = {
    schemaVersion: '2',
    thresholds: { high: 80, low: 60 },
    files: {
      'packages/shared/src/f.ts': {
        language: 'typescript',
        source,
        mutants: [
          {
            id: '7',
            mutatorName: 'BlockStatement',
            replacement: '{}',
            location: { start: { line: 1, column: 30 }, end: { line: 3, column: 2 } },
            status: 'Survived',
          },
          {
            id: '8',
            mutatorName: 'EqualityOperator',
            replacement: 'a >= 1',
            location: { start: { line: 2, column: 10 }, end: { line: 2, column: 15 } },
            status: 'Killed',
            killedBy: ['0'],
          },
        ],
      },
    },
    testFiles: { 'packages/shared/dist-test/test/f.test.js': { tests: [{ id: '0', name: 'packages/shared/dist-test/test/f.test.js' }] } },
  };

  test('gives each mutant the source text it replaced (1-based lines and columns) and the tests that killed it by name', () => {
    const [block, comparison] = mutantsOf(report);
    assert.equal(block?.original, "{\n  return a > 1 ? 'big' : 'small';\n}");
    assert.deepEqual(comparison, {
      id: '8',
      file: 'packages/shared/src/f.ts',
      mutator: 'EqualityOperator',
      line: 2,
      column: 10,
      original: 'a > 1',
      replacement: 'a >= 1',
      status: 'Killed',
      killedBy: ['packages/shared/dist-test/test/f.test.js'],
    });
  });

  test('describes a mutant on one line, long text cut short', () => {
    const [block] = mutantsOf(report);
    assert.ok(block);
    assert.equal(describeMutant(block), "packages/shared/src/f.ts:1:30 BlockStatement: { return a > 1 ? 'big' : 'small'; } -> {} (Survived)");
    assert.match(describeMutant({ ...block, original: 'x'.repeat(100) }), / x{67}\.\.\. -> \{\} /);
  });
});
