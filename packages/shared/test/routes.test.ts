import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowHeader, counterMessage, edge, edgeProblems, internalRouteDetail, isRetryable, load, routeForPath, routeList, routes, tokenRegExp } from '../src/index.js';

describe('route table', () => {
  test('paths are unique, absolute and free of trailing slashes', () => {
    const paths = routeList.map((route) => route.path);
    assert.equal(new Set(paths).size, paths.length);
    for (const path of paths) assert.match(path, /^\/([a-z]+)?$/);
  });

  test('every route answers GET and HEAD', () => {
    for (const route of routeList) assert.deepEqual([...route.methods], ['GET', 'HEAD']);
  });

  test('metrics are internal; everything users call is public', () => {
    assert.equal(routes.metrics.exposure, 'internal');
    for (const id of ['info', 'redis', 'html', 'load', 'healthz', 'readyz'] as const) {
      assert.equal(routes[id].exposure, 'public', id);
    }
  });

  test('the edge health path is not an api route', () => {
    assert.equal(routeForPath(edge.healthPath), undefined);
  });

  test('/load has room for its longest job and is rate limited', () => {
    assert.ok(routes.load.timeoutMs > load.maxMs);
    assert.equal(routes.load.rateLimit, 'expensive');
  });

  test('routeForPath matches exactly', () => {
    assert.equal(routeForPath('/redis')?.id, 'redis');
    assert.equal(routeForPath('/redis/'), undefined);
    assert.equal(routeForPath('/REDIS'), undefined);
  });

  test('request ids: letters, digits and . _ : - up to 128 characters', () => {
    assert.ok(tokenRegExp.test('3f2c9a1e-7b1d-4c55-9d0e-2b7f1c0a9e11'));
    assert.ok(!tokenRegExp.test(''));
    assert.ok(!tokenRegExp.test('a'.repeat(129)));
    assert.ok(!tokenRegExp.test('bad"quote'));
    assert.ok(!tokenRegExp.test('line\nbreak'));
  });

  test('Allow lists a route’s methods as HTTP writes them', () => {
    assert.equal(allowHeader(routes.redis), 'GET, HEAD');
    assert.equal(allowHeader({ ...routes.redis, methods: ['GET'] }), 'GET');
  });

  test('only GET and HEAD are replayed on another instance', () => {
    assert.ok(isRetryable('GET'));
    assert.ok(isRetryable('HEAD'));
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'get', '']) assert.ok(!isRetryable(method), method);
  });
});

describe('what the tiers say', () => {
  test('an internal route asked for at the edge is the same 404 as any unknown path', () => {
    assert.equal(internalRouteDetail('/metrics'), 'No route for /metrics.');
    assert.equal(edgeProblems.notFound.status, 404);
  });

  test('the count, in the course’s words', () => {
    assert.equal(counterMessage(3), 'This page has been viewed 3 times!');
  });
});
