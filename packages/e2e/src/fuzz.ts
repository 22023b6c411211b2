/**
 * Hostile requests, generated (fast-check) and hand-picked, sent over raw sockets exactly as
 * written, and the rules every tier's answers must keep. The fuzz test sends the same requests to
 * nginx, the http-proxy edge and the api, and compares the tiers with each other.
 */
import { connect } from 'node:net';
import { headerNames, problemContentType } from '@three-tier/shared';
import fc from 'fast-check';

/** Put into paths, queries and header values: it must never come back as it went out. */
export const marker = '<x-fuzz>';

export interface FuzzCase {
  /** What kind of hostility, for the report. */
  readonly kind: string;
  readonly bytes: Buffer;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Every answer that came back for one case (pipelined requests get several), or none. */
export interface Outcome {
  readonly answers: readonly Answer[];
  /** No final answer and nothing else came back (an interim 100 Continue at most): closed or reset unanswered. */
  readonly silent: boolean;
  /** What came back after the last answer that is no HTTP/1.x answer (an HTTP/0.9 reply is all body), as latin1. */
  readonly unparsed: string;
}

const crlf = '\r\n';
const paths = ['/', '/redis', '/html', '/healthz', '/readyz', '/no-such-route', '/edge/healthz', '/edge/problem/bad_request'];
const token = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
const junkText = fc.string({ maxLength: 40, unit: 'binary-ascii' });

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'HEAD') },
  { weight: 2, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'get') },
  { weight: 1, arbitrary: fc.constantFrom('G@T', 'GE T', '', 'GET\u0000', '\u00e9T') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/) },
);

const escape = fc.constantFrom('%', '%z', '%zz', '%0', '%00', '%0a', '%0d', '%1f', '%7f', '%ff', '%e0%a4%a', '%c0%af', '%u002e', '%25', '%2f');
const climb = fc.constantFrom('/..', '/../..', '/%2e%2e', '/.%2e', '/%2E%2E/%2e%2e', '/..%2f..', '/a/../..', '/%252e%252e', '/.../', '/..;', '/./', '/a/..');

const target = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...paths) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...paths), escape).map(([path, bad]) => `${path}${bad}`) },
  { weight: 2, arbitrary: fc.tuple(climb, fc.constantFrom(...paths)).map(([up, path]) => `${up}${path}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((length) => `/${'a'.repeat(length)}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '*',
      'http://example.test/redis',
      'https://example.test/healthz',
      'example.test:80',
      '//redis',
      '/REDIS',
      '/redis/',
      `/redis?x=${marker}`,
      `/${marker}`,
      '/redis#fragment',
      '/redis?%zz',
      '/healthz?' + 'q'.repeat(3_000),
    ),
  },
  { weight: 1, arbitrary: junkText.map((text) => `/${text}`) },
);

const version = fc.oneof(
  { weight: 8, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 2, arbitrary: fc.constant('HTTP/1.0') },
  { weight: 2, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3', 'http/1.1', 'HTTP/1.1 x', '', 'HTTP/01.1') },
);

const header = fc.oneof(
  token.map((key) => `${headerNames.idempotencyKey}: ${key}`),
  fc.constantFrom('', ' ', 'no spaces allowed', 'x'.repeat(129), marker, 'a,b', 'é').map((key) => `${headerNames.idempotencyKey}: ${key}`),
  fc.oneof(token, fc.constantFrom('bad id!', marker, 'x'.repeat(200))).map((id) => `${headerNames.requestId}: ${id}`),
  fc.integer({ min: 1_000, max: 40_000 }).map((length) => `X-Big: ${'b'.repeat(length)}`),
  fc.constantFrom('Bad Header: x', 'X-\u0001: y', ': novalue', 'NoColon', 'X-Null: a\u0000b', `X-Marker: ${marker}`, ' Leading: space'),
  fc.constantFrom('Content-Length: -1', 'Content-Length: abc', 'Content-Length: 99999999999999999999', 'Content-Length: 1, 2'),
  fc.constantFrom('Transfer-Encoding: chunked', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked, chunked', 'Expect: 100-continue', 'Connection: upgrade', 'Upgrade: websocket'),
);

const host = fc.constantFrom(['Host: x'], ['Host: x'], [], ['Host: x', 'Host: y'], [`Host: ${marker}`], ['Host:'], ['Host: x:99999']);

const body = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ head: [] as string[], text: '' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Content-Length: 5'], text: 'hello' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Content-Length: 5', 'Transfer-Encoding: chunked'], text: '5\r\nhello\r\n0\r\n\r\n' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Content-Length: 3', 'Content-Length: 4'], text: 'abcd' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Transfer-Encoding: chunked'], text: 'zz\r\nhello\r\n0\r\n\r\n' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Transfer-Encoding: chunked'], text: '3\r\nabc\r\n0\r\n\r\n' }) },
  { weight: 1, arbitrary: fc.constant({ head: ['Content-Length: 20000'], text: 'x'.repeat(20_000) }) },
);

const pipelined = `GET /healthz HTTP/1.1${crlf}Host: x${crlf}${crlf}`;

/** One generated request: a request line, headers, maybe a body, maybe a second request behind it. */
const request = fc
  .record({
    method,
    target,
    version,
    host,
    headers: fc.array(header, { maxLength: 4 }),
    many: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 50, max: 300 }) }),
    body,
    pipeline: fc.boolean(),
  })
  .map((r): FuzzCase => {
    const line = [r.method, r.target, r.version].filter((part) => part !== '').join(' ');
    const lines = [
      line,
      ...r.host,
      ...r.headers,
      ...Array.from({ length: r.many }, (_, i) => `X-Many-${i}: v`),
      ...r.body.head,
    ];
    const text = `${lines.join(crlf)}${crlf}${crlf}${r.body.text}${r.pipeline ? pipelined : ''}`;
    const kind =
      r.version !== 'HTTP/1.1' && r.version !== 'HTTP/1.0'
        ? 'version'
        : r.body.head.length > 0
          ? 'body framing'
          : r.many > 0
            ? 'many headers'
            : r.headers.length > 0
              ? 'headers'
              : 'request line';
    return { kind, bytes: Buffer.from(text, 'latin1') };
  });

const junk = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes): FuzzCase => ({ kind: 'binary junk', bytes: Buffer.from(bytes) }));

/** `count` cases from `seed`: the same seed gives the same requests, for every tier. */
export function fuzzCases(count: number, seed: number): FuzzCase[] {
  return fc.sample(fc.oneof({ weight: 9, arbitrary: request }, { weight: 1, arbitrary: junk }), { numRuns: count, seed });
}

/** Hand-picked cases that a generator would find only by luck. */
export const handPicked: readonly FuzzCase[] = [
  ['request line', 'GET\r\n\r\n'],
  ['request line', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'.replace('/', '/\u0000')],
  ['request line', 'GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', 'GET /\\redis HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n'],
  ['request line', 'CONNECT /redis HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', 'TRACE /redis HTTP/1.1\r\nHost: x\r\n\r\n'],
  // A method nginx takes and proxies, that the api's parser refuses.
  ['request line', '--G- /redis HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', 'GET /redis HTTP/1.0\r\n\r\n'],
  // A fragment no client sends: nginx ends the path before it.
  ['request line', 'GET /redis#fragment HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['request line', `GET /${'%2e%2e/'.repeat(20)}etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`],
  ['body framing', 'GET /redis HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['body framing', 'POST /redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nG\r\n'],
  // Two lines that read as `gzip, chunked` once joined: nginx refuses the repeated header.
  ['body framing', 'GET /redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['pipelining', `GET /redis HTTP/1.1\r\nHost: x\r\n\r\nGET /redis HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n`],
  // A request after one that said it was the last: nginx answers the first and drops the rest, and so must the Node tiers.
  ['pipelining', 'GET /redis HTTP/1.0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['pipelining', 'GET /html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['headers', `GET /redis HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 500 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`],
  ['headers', 'GET /redis HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n\r\n'],
  // Bad `ms` for /load: few enough to stay inside the edges' rate-limit burst, none that burns CPU.
  ...['0', '-1', 'abc', '99999', '1e3', '%zz', marker, '1&ms=2'].map((ms) => ['query', `GET /load?ms=${ms} HTTP/1.1\r\nHost: x\r\n\r\n`]),
].map(([kind = '', text = '']) => ({ kind, bytes: Buffer.from(text, 'latin1') }));

/** A chunked body's bytes and its length on the wire, or undefined while it is incomplete. */
function dechunk(data: Buffer): { body: Buffer; length: number } | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isInteger(size)) return undefined;
    if (size === 0) return { body: Buffer.concat(parts), length: lineEnd + 4 };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/**
 * Splits what came back on one connection into final answers (several when pipelined), leaving out
 * interim 1xx ones, and what is left that does not start an answer. An answer to HEAD declares a
 * length it does not send: when the next answer starts where its body would, or nothing follows,
 * its body is empty.
 */
function splitAnswers(raw: Buffer): { answers: Answer[]; rest: Buffer } {
  const answers: Answer[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) break;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const after = rest.subarray(end + 4);
    let body: Buffer = Buffer.alloc(0);
    let used = 0;
    if (status >= 200 && !after.subarray(0, 7).equals(Buffer.from('HTTP/1.'))) {
      if (headers['content-length'] !== undefined) {
        used = Math.min(Number(headers['content-length']), after.length);
        body = after.subarray(0, used);
      } else if (headers['transfer-encoding'] === 'chunked') {
        const chunked = dechunk(after);
        if (chunked) {
          body = chunked.body;
          used = chunked.length;
        } else used = after.length;
      }
    }
    if (status >= 200) answers.push({ status, headers, body: body.toString('utf8') });
    rest = after.subarray(used);
  }
  return { answers, rest };
}

/**
 * Sends one case on a fresh connection and collects the answers. The connection stays open until
 * they stop coming (closing it early could turn the server's close into a reset that loses them);
 * a server still waiting for bytes the case never sends gets an end of stream after a second.
 */
export async function send(port: number, fuzzCase: FuzzCase, timeoutMs = 10_000): Promise<Outcome> {
  const raw = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(idle);
      clearTimeout(nudge);
      clearTimeout(limit);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const socket = connect(port, '127.0.0.1', () => socket.write(fuzzCase.bytes));
    const nudge = setTimeout(() => socket.end(), 1_000);
    const limit = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(idle);
      idle = setTimeout(finish, 150);
    });
    socket.on('close', finish);
    // A reset after an answer is fine (nginx resets what it will not read); without one it is silence.
    socket.on('error', () => undefined);
  });
  const { answers, rest } = splitAnswers(raw);
  return { answers, silent: answers.length === 0 && rest.length === 0, unparsed: rest.toString('latin1') };
}

/** The rules one answer must keep, whatever it answers; returns what it broke. */
export function brokenRules(answer: Answer): string[] {
  const broken: string[] = [];
  if (answer.status >= 500 && answer.status !== 503 && answer.status !== 505) broken.push(`a ${answer.status}`);
  if (answer.body.includes(marker)) broken.push('echoed the request unescaped');
  if (answer.status >= 400 && answer.body.length > 0) {
    const type = (answer.headers['content-type'] ?? '').split(';')[0];
    if (type !== problemContentType) broken.push(`a ${answer.status} as ${type || 'no content type'}, not problem+json`);
    else {
      try {
        const problem = JSON.parse(answer.body) as { requestId?: unknown };
        if (typeof problem.requestId !== 'string' || problem.requestId !== answer.headers[headerNames.requestId.toLowerCase()]) {
          broken.push(`a ${answer.status} whose problem does not carry the request id it was sent with`);
        }
      } catch {
        broken.push(`a ${answer.status} whose problem+json does not parse`);
      }
    }
  }
  return broken;
}
