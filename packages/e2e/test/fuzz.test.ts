/**
 * The fuzz suite: the same hostile requests, generated and hand-picked, sent as raw bytes to nginx,
 * to the http-proxy edge and to the api, then the rules every answer keeps, the count against the
 * visits acknowledged, the tiers against each other, and slow clients against a health check.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freeStackPorts } from '@three-tier/processes';
import { routes } from '@three-tier/shared';
import { brokenRules, fuzzCases, handPicked, send, type FuzzCase, type Outcome } from '../src/fuzz.js';
import { visitAccount } from '../src/fuzz-visits.js';
import { allowedEmptyErrors, allowedSilences, answerProblems, faults, firstAnswer, tierDisagreement, type Tier } from '../src/fuzz-tiers.js';
import { startStack, type TestStack } from './helpers.js';

/** The same seed gives the same requests; FUZZ_SEED tries others. */
const seed = Number(process.env.FUZZ_SEED ?? 20261128);
const generated = 1_000;
const cases: readonly FuzzCase[] = [...handPicked, ...fuzzCases(generated, seed)];
const concurrency = 8;

/** The count in Redis, read over RESP so that reading it counts nothing. */
async function redisCount(port: number): Promise<number> {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET hits\r\n'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/^\$-1\r\n|^\$\d+\r\n.*\r\n/s.test(text)) {
        socket.end();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
  return reply.startsWith('$-1') ? 0 : Number(reply.split('\r\n')[1]);
}

/** The path a case's request line names, as sent. */
function requestPath(fuzzCase: FuzzCase): string {
  return fuzzCase.bytes.toString('latin1').split(' ', 2)[1] ?? '';
}

async function sendAll(port: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cases.length) {
        const index = next++;
        const fuzzCase = cases[index];
        if (fuzzCase) outcomes[index] = await send(port, fuzzCase);
      }
    }),
  );
  return outcomes;
}

describe(`the fuzz suite: ${cases.length} hostile requests (seed ${seed}) through nginx, the http-proxy edge, and to the api`, () => {
  let nginxStack: TestStack;
  let proxyStack: TestStack;
  const ports = { nginx: 0, proxy: 0, api: 0, nginxRedis: 0, proxyRedis: 0 };
  const outcomes = new Map<string, Outcome[]>();

  before(async () => {
    // Each stack's ports are picked once the stack before it holds its own.
    const nginxPorts = await freeStackPorts(1);
    Object.assign(ports, { nginx: nginxPorts.edge, api: nginxPorts.api, nginxRedis: nginxPorts.redis });
    nginxStack = await startStack('nginx', { ports: nginxPorts });
    const proxyPorts = await freeStackPorts(1);
    Object.assign(ports, { proxy: proxyPorts.edge, proxyRedis: proxyPorts.redis });
    proxyStack = await startStack('http-proxy', { ports: proxyPorts });
  });
  after(async () => {
    await nginxStack.cleanup();
    await proxyStack.cleanup();
  });

  const tiers: { name: string; tier: Tier; port: () => number; redis: () => number; stack: () => TestStack }[] = [
    { name: 'nginx', tier: 'nginx', port: () => ports.nginx, redis: () => ports.nginxRedis, stack: () => nginxStack },
    { name: 'the http-proxy edge', tier: 'edge', port: () => ports.proxy, redis: () => ports.proxyRedis, stack: () => proxyStack },
    { name: 'the api', tier: 'api', port: () => ports.api, redis: () => ports.nginxRedis, stack: () => nginxStack },
  ];

  for (const tier of tiers) {
    test(`${tier.name}: an answer to every request, no 5xx but 503 and 505, every 4xx problem+json with its request id, nothing echoed, every process up, and the count equal to the visits it acknowledged`, async () => {
      const before = await redisCount(tier.redis());
      const answered = await sendAll(tier.port());
      outcomes.set(tier.name, answered);

      // Silence, an answer without a status line, or an error without a body: each only where named.
      const broken = answered.flatMap((outcome, index) => {
        const fuzzCase = cases[index];
        if (!fuzzCase) return [];
        const rules = [...answerProblems(fuzzCase, outcome, tier.tier), ...outcome.answers.flatMap((answer) => brokenRules(answer))];
        return rules.map((rule) => `${rule}: ${JSON.stringify(fuzzCase.bytes.toString('latin1').slice(0, 120))}`);
      });
      assert.deepEqual(broken.slice(0, 10), [], `${broken.length} answers broke a rule`);

      const { stack } = tier.stack();
      for (const child of [stack.redis, stack.api, stack.edge]) assert.ok(child.running, `a process of ${tier.name} stopped`);
      assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${stack.apiUrl}/healthz`)).status, 200);

      // Each count made is shown to the client it was made for, and no answer shows one not made for it (see fuzz-visits.ts).
      const after = await redisCount(tier.redis());
      const account = visitAccount(cases, answered, before, after);
      assert.deepEqual(account.unexplained.slice(0, 10), [], `${account.unexplained.length} answers showed a count not made for them`);
      assert.deepEqual(account.unacknowledged, [], `the count grew by ${after - before}, and these counts were never shown`);
      const acknowledged = account.acknowledged;

      const byKind = new Map<string, { sent: number; refused: number; served: number; silent: number; http09: number }>();
      for (const [index, outcome] of answered.entries()) {
        const kind = cases[index]?.kind ?? '?';
        const row = byKind.get(kind) ?? { sent: 0, refused: 0, served: 0, silent: 0, http09: 0 };
        row.sent += 1;
        const first = firstAnswer(outcome);
        if (first === 'closed') row.silent += 1;
        else if (first === 'HTTP/0.9') row.http09 += 1;
        else if (first >= 400) row.refused += 1;
        else row.served += 1;
        byKind.set(kind, row);
      }
      const fiveHundreds = answered.flatMap((outcome) => outcome.answers).filter((answer) => answer.status >= 500);
      console.log(
        `fuzz ${tier.name}: ${cases.length} requests, ${answered.reduce((sum, outcome) => sum + outcome.answers.length, 0)} answers, ` +
          `5xx: ${fiveHundreds.length} (${[...new Set(fiveHundreds.map((answer) => answer.status))].join(', ') || 'none'}), visits counted: ${after - before}, acknowledged: ${acknowledged}, replayed keys: ${account.replays}\n` +
          [...byKind].map(([kind, row]) => `  ${kind.padEnd(14)} sent ${row.sent}, refused ${row.refused}, served ${row.served}, closed silently ${row.silent}, HTTP/0.9 ${row.http09}`).join('\n'),
      );
    });
  }

  test('the tiers answer with the same first status, but for the differences named in fuzz-tiers.ts', () => {
    const disagreements: string[] = [];
    let differed = 0;
    for (const [index, fuzzCase] of cases.entries()) {
      // The edge's own paths (its health check, its error pages) exist at the edges only.
      const edgeOnly = requestPath(fuzzCase).startsWith('/edge/');
      const compared = edgeOnly ? tiers.filter(({ tier }) => tier !== 'api') : tiers;
      const answers = compared.map(({ name, tier }) => ({ name, tier, answer: firstAnswer(outcomes.get(name)?.[index] ?? { answers: [], silent: true, unparsed: '' }) }));
      if (new Set(answers.map(({ answer }) => answer)).size > 1) differed += 1;
      const why = tierDisagreement(fuzzCase, answers);
      if (why !== undefined) {
        disagreements.push(`${JSON.stringify(fuzzCase.bytes.toString('latin1').slice(0, 100))}: ${answers.map(({ name, answer }) => `${name} ${answer}`).join('; ')} (${why})`);
      }
    }
    assert.deepEqual(disagreements.slice(0, 15), [], `${disagreements.length} of ${cases.length} requests were answered differently, unexplained`);
    console.log(
      `fuzz: the tiers gave the same first status to ${cases.length - differed} of ${cases.length} requests; the other ${differed} differ as named ` +
        `(${Object.keys(faults).length} faults, ${allowedSilences.length} silences, ${allowedEmptyErrors.length} empty errors)`,
    );
  });

  test('200 slow clients trickling their headers never delay /healthz for another client, on either edge', async () => {
    // A bare server in this process, asked at the same moment as the edge: what this machine's load
    // costs a request right now (two test files on two busy cores, say), set apart from the edge's share.
    const bare = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
    const timed = async (url: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200, url);
      await res.body?.cancel();
      return performance.now() - started;
    };
    try {
      for (const port of [ports.nginx, ports.proxy]) {
        const slow: Socket[] = [];
        const trickle = setInterval(() => {
          for (const socket of slow) socket.write(`X-Slow: ${'a'.repeat(8)}\r\n`);
        }, 100);
        try {
          for (let i = 0; i < 200; i++) {
            const socket = connect(port, '127.0.0.1');
            socket.on('error', () => undefined);
            socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
            slow.push(socket);
          }
          // Two seconds of another client's health checks while all 200 keep trickling, each beside one to the bare server.
          const extra: number[] = [];
          const until = performance.now() + 2_000;
          while (performance.now() < until) {
            const [edgeMs, bareMs] = await Promise.all([timed(`http://127.0.0.1:${port}${routes.healthz.path}`), timed(bareUrl)]);
            extra.push(edgeMs - bareMs);
          }
          assert.ok(slow.filter((socket) => !socket.destroyed).length >= 190, 'the slow clients were still connected');
          const worst = Math.max(...extra);
          // Starved, a check would wait for a slow client's 10 s header timeout, or not be answered at all.
          assert.ok(worst < 500, `/healthz took up to ${Math.round(worst)} ms longer than a bare server beside 200 slow clients (port ${port})`);
          console.log(`fuzz: port ${port}, ${extra.length} health checks beside 200 slow clients, at most ${worst.toFixed(1)} ms longer than a bare server's`);
        } finally {
          clearInterval(trickle);
          for (const socket of slow) socket.destroy();
        }
      }
    } finally {
      bare.closeAllConnections();
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
