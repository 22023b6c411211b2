import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { edge, edgeProblems, internalRouteDetail, routeList, routes, upstreamReadTimeoutMs, type Route } from '@three-tier/shared';
import { createRouting, originForm } from '../src/routing.js';

describe('createRouting: what the edge does with a path', () => {
  const routing = createRouting();

  test('the health path is answered by the edge, quietly', () => {
    assert.deepEqual(routing(edge.healthPath), { kind: 'health', quiet: true });
    assert.equal(routing(`${edge.healthPath}?probe=1`).kind, 'health');
  });

  test('every public route is proxied with its read timeout, rate-limit class and quiet flag', () => {
    for (const route of routeList.filter((entry) => entry.exposure === 'public')) {
      const destination = routing(route.path);
      assert.equal(destination.kind, 'proxied', route.path);
      if (destination.kind !== 'proxied') continue;
      assert.equal(destination.route.path, route.path);
      assert.equal(destination.readTimeoutMs, upstreamReadTimeoutMs(route), route.path);
      assert.equal(destination.rateLimit, route.rateLimit, route.path);
      assert.equal(destination.quiet, route.quiet, route.path);
    }
    const load = routing(routes.load.path);
    assert.ok(load.kind === 'proxied' && load.rateLimit === 'expensive' && load.readTimeoutMs === routes.load.timeoutMs + edge.upstreamMarginMs);
    assert.equal(routing(routes.instance.path).quiet, true);
    assert.equal(routing(routes.redis.path).quiet, false);
  });

  test('an internal route is the same 404 as an unknown path, naming the path, and keeps its quiet flag', () => {
    assert.deepEqual(routing(routes.metrics.path), {
      kind: 'refused',
      problem: { status: 404, detail: internalRouteDetail(routes.metrics.path) },
      quiet: routes.metrics.quiet,
    });
  });

  test('an unknown path, or a known one with a trailing slash, is not found and logged', () => {
    for (const target of ['/nope', '/redis/', '/REDIS', '', '*']) {
      assert.deepEqual(routing(target), { kind: 'refused', problem: edgeProblems.notFound, quiet: false }, target);
    }
  });

  test('the query and the fragment are not part of the path, and an absolute-form target routes by its path', () => {
    assert.equal(routing('/redis?x=1'), routing(routes.redis.path));
    assert.equal(routing('/redis#fragment'), routing(routes.redis.path));
    assert.equal(routing(`${edge.healthPath}#top`).kind, 'health');
    assert.equal(routing('http://example.test/redis?x=1'), routing(routes.redis.path));
    assert.equal(routing('HTTP://example.test:8080/load'), routing(routes.load.path));
    assert.equal(routing('http://example.test'), routing(routes.info.path));
  });

  test('each path\'s answer is built once: every request for it gets the same object', () => {
    assert.equal(routing('/redis?a=1'), routing('/redis?b=2'));
    assert.equal(routing('/nope'), routing('/elsewhere'));
  });

  test('a table of its own: its routes, and the health path wins over a route that claims it', () => {
    const table: Route[] = [
      { ...routes.redis, path: '/count', timeoutMs: 100 },
      { ...routes.info, path: edge.healthPath },
    ];
    const own = createRouting(table);
    const count = own('/count');
    assert.ok(count.kind === 'proxied' && count.readTimeoutMs === 100 + edge.upstreamMarginMs);
    assert.equal(own(edge.healthPath).kind, 'health');
    assert.equal(own(routes.redis.path).kind, 'refused');
  });
});

describe('originForm', () => {
  test('origin form is kept as it is', () => {
    assert.equal(originForm('/redis?x=1'), '/redis?x=1');
  });

  test('absolute form loses its scheme and authority, as nginx sends it', () => {
    assert.equal(originForm('http://example.test/redis?x=1'), '/redis?x=1');
    assert.equal(originForm('HTTPS://example.test:8443/load'), '/load');
    assert.equal(originForm('http://example.test'), '/');
    assert.equal(originForm('http://example.test/'), '/', 'a root that ends in a slash is absolute form all the same');
    assert.equal(originForm('http://example.test?x=1'), '/?x=1');
  });
});
