import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { badIdempotencyKey, edgeErrors, errorLocation, errorLocations, errorPages } from '../src/blocks/edge-errors.js';
import { idempotencyKeyGuard } from '../src/blocks/request-maps.js';
import { staticTarget } from './targets.js';
import { directives, directivesIn } from './tree.js';

const allErrors = [...edgeErrors, badIdempotencyKey];

describe('the edge error locations', () => {
  test('send Retry-After only on the problems that have one, with their seconds', () => {
    const withRetry = allErrors.filter((error) => error.problem.retryAfterSeconds !== undefined);
    assert.ok(withRetry.length > 0 && withRetry.length < allErrors.length, 'some problems have a Retry-After, some not');
    for (const error of allErrors) {
      const retryAfter = directives(errorLocation(error), 'add_header').filter((d) => d.args[0] === 'Retry-After');
      const expected = error.problem.retryAfterSeconds === undefined ? [] : [['Retry-After', error.problem.retryAfterSeconds, 'always']];
      assert.deepEqual(retryAfter.map((d) => [...d.args]), expected, error.name);
    }
  });

  test('answer with the status and detail of their problem, as problem+json, only when sent there internally', () => {
    for (const error of allErrors) {
      const location = errorLocation(error);
      assert.equal(directives(location, 'internal').length, 1, error.name);
      assert.deepEqual(directives(location, 'default_type')[0]?.args, ['application/problem+json'], error.name);
      const [status, body] = directives(location, 'return')[0]?.args ?? [];
      assert.equal(status, error.problem.status, error.name);
      assert.equal(JSON.parse(String(body)).detail, error.problem.detail, error.name);
    }
  });

  test("rewrite the status only where nginx's own code is not the client's (494 to 431, 501 to 400)", () => {
    const pages = directivesIn(errorPages(), 'error_page').map((d) => [...d.args]);
    const rewritten = pages.filter((args) => String(args[1]).startsWith('='));
    assert.deepEqual(rewritten, [
      [501, '=400', '/edge/problem/bad_request'],
      [494, '=431', '/edge/problem/headers_too_large'],
    ]);
    assert.deepEqual(pages.map(([code]) => code).sort(), edgeErrors.flatMap((error) => error.codes).sort());
  });

  test('exist for every error_page and for the idempotency guard, one each, and for nothing else', () => {
    const errorPageUris = directivesIn(errorPages(), 'error_page').map((d) => d.args.at(-1));
    const guardUri = directives(idempotencyKeyGuard(staticTarget), 'rewrite')[0]?.args[1];
    const served = errorLocations().map((location) => location.args[1]);
    assert.deepEqual(new Set(served), new Set([...errorPageUris, guardUri]));
    assert.equal(served.length, new Set(served).size, 'one location per error');
  });
});
