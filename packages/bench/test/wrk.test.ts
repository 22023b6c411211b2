import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseWrk } from '../src/wrk.js';

/** What `wrk -t1 -c32 -d2s --latency` printed against a stack that answered some 503s and dropped a few sockets. */
const troubled = `Running 2s test @ http://127.0.0.1:18080/redis
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.18ms    1.96ms  31.77ms   87.65%
    Req/Sec     7.79k   512.34     8.41k    85.00%
  Latency Distribution
     50%    3.84ms
     75%    4.66ms
     90%    5.93ms
     99%   12.40ms
  15502 requests in 2.00s, 4.91MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:   7748.51
Transfer/sec:      2.45MB
`;

/** A clean run, latencies in microseconds and seconds. */
const clean = `Running 1s test @ http://127.0.0.1:3000/healthz
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.00us  201.00us   1.20s    90.00%
    Req/Sec    45.10k     2.00k   48.00k    70.00%
  Latency Distribution
     50%  580.00us
     75%  650.00us
     90%  720.00us
     99%    1.20s
  45100 requests in 1.00s, 9.10MB read
Requests/sec:  45090.00
Transfer/sec:      9.10MB
`;

describe('parseWrk', () => {
  test('reads the totals, the rate, the percentiles and every kind of error', () => {
    assert.deepEqual(parseWrk(troubled), { requests: 15_502, seconds: 2, rps: 7748.51, p50Ms: 3.84, p99Ms: 12.4, errors: 17 + 3 + 1 + 2 });
  });

  test('converts microseconds and seconds to milliseconds; no error lines means no errors', () => {
    const parsed = parseWrk(clean);
    assert.equal(parsed.errors, 0);
    assert.equal(parsed.p50Ms, 0.58);
    assert.equal(parsed.p99Ms, 1_200);
    assert.equal(parsed.rps, 45_090);
  });

  test('without Requests/sec, the rate is the requests over the duration', () => {
    const parsed = parseWrk(clean.replace(/^Requests\/sec:.*\n/m, '').replace('1.00s', '500.00ms'));
    assert.equal(parsed.seconds, 0.5);
    assert.equal(parsed.rps, 90_200);
  });

  test('output without totals (wrk failed to connect at all) is an error that shows the output', () => {
    assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n'), /wrk printed no totals:\nunable to connect/);
  });
});
