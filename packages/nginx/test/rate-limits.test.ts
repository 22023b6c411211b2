import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { edge, edgeProblems, routeList } from '@three-tier/shared';
import { errorPages } from '../src/blocks/edge-errors.js';
import { rateLimit, rateLimitZones } from '../src/blocks/rate-limits.js';
import { directivesIn } from './tree.js';

describe('rate limits', () => {
  test('a limited location uses the zone the http block defines, with the contract burst', () => {
    const [zone] = directivesIn(rateLimitZones(), 'limit_req_zone');
    const zoneName = String(zone?.args[1]).replace(/^zone=/, '').replace(/:.*$/, '');
    assert.deepEqual(zone?.args.slice(2), [`rate=${edge.rateLimits.expensive.perSecond}r/s`]);
    const expensive = routeList.filter((route) => route.rateLimit === 'expensive');
    assert.ok(expensive.length > 0, 'the table has an expensive route');
    for (const route of expensive) {
      assert.deepEqual(directivesIn(rateLimit(route), 'limit_req')[0]?.args, [`zone=${zoneName}`, `burst=${edge.rateLimits.expensive.burst}`, 'nodelay']);
    }
    for (const route of routeList.filter((candidate) => candidate.rateLimit !== 'expensive')) assert.deepEqual(rateLimit(route), [], route.path);
  });

  test("rejects with the too-many-requests problem's status, which has its own error location", () => {
    const status = edgeProblems.tooManyRequests.status;
    assert.deepEqual(directivesIn(rateLimitZones(), 'limit_req_status')[0]?.args, [status]);
    assert.ok(directivesIn(errorPages(), 'error_page').some((d) => d.args[0] === status), `an error_page for ${status}`);
  });
});
