import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { problemContentType } from '@three-tier/shared';
import { answerClientErrors, closeServer, rawProblemResponse, requestIdOfFailedHead, type ParseError } from '../src/index.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Writes raw bytes and returns everything the server sends back before it closes. */
async function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    // A server that never answers fails the test instead of hanging it.
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no end of the answer within 5 s, after: ${JSON.stringify(reply)}`)));
  });
}

describe('rawProblemResponse', () => {
  test('is a complete HTTP/1.1 response with a problem body and the security headers', () => {
    const text = rawProblemResponse(431, 'too big', 'id-1');
    const [head = '', body = ''] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(head, new RegExp(`Content-Type: ${problemContentType.replace('+', '\\+')}`));
    assert.match(head, new RegExp(`Content-Length: ${Buffer.byteLength(body)}`));
    assert.match(head, /X-Content-Type-Options: nosniff/);
    assert.match(head, /Connection: close/);
    assert.match(head, /X-Request-ID: id-1\r\n/);
    assert.deepEqual(JSON.parse(body), { type: 'about:blank', title: 'Request Header Fields Too Large', status: 431, detail: 'too big', requestId: 'id-1' });
  });
});

describe('answerClientErrors', () => {
  test('oversized headers get 431 problem+json, garbage gets 400, and the server lives on', async () => {
    const server = createServer({ maxHeaderSize: 1024 }, (_req, res) => res.end('ok'));
    answerClientErrors(server);
    const port = await listen(server);
    try {
      const big = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      assert.match(big, /"status":431/);
      const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
      assert.match(garbage, /^HTTP\/1\.1 400 /);
      assert.match(garbage, /application\/problem\+json/);
      const fine = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(fine, /^HTTP\/1\.1 200 /);
    } finally {
      server.close();
    }
  });
});

describe('answerClientErrors: after the answers to the requests before the one that failed', () => {
  /** A server that answers each request only once the parser has failed on what followed it. */
  async function answeringAfterTheError(): Promise<{ server: Server; port: number }> {
    const server = createServer();
    answerClientErrors(server);
    const failed = once(server, 'clientError');
    server.on('request', (req, res) => void failed.then(() => res.end(`ok ${req.url ?? ''}`)));
    return { server, port: await listen(server) };
  }

  for (const [what, head] of [
    ['HTTP/1.0', 'GET /a HTTP/1.0\r\n\r\n'],
    ['Connection: close', 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ] as const) {
    test(`bytes after a request with ${what} are dropped, as nginx drops them: the request is answered, nothing else`, async () => {
      const { server, port } = await answeringAfterTheError();
      try {
        const reply = await raw(port, `${head}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.match(reply, /^HTTP\/1\.1 200 /);
        assert.equal(reply.match(/HTTP\/1\.1 /g)?.length, 1, reply);
        assert.ok(reply.endsWith('ok /a'), reply);
      } finally {
        server.close();
      }
    });
  }

  test('a pipelined request that fails is answered 400 after the answers to those before it', async () => {
    const { server, port } = await answeringAfterTheError();
    try {
      const reply = await raw(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n');
      const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1]);
      assert.deepEqual(statuses, ['200', '200', '400'], reply);
      assert.match(reply, /ok \/a.*ok \/b.*application\/problem\+json/s);
    } finally {
      server.close();
    }
  });

  test('a body that does not parse is answered 400 at once: its own request is the one that failed', async () => {
    const server = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
    answerClientErrors(server);
    const port = await listen(server);
    try {
      const reply = await raw(port, 'GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      assert.match(reply, /^HTTP\/1\.1 400 /);
    } finally {
      server.close();
    }
  });
  test('a body that fails after its answer has started: the answer is finished first, then the 400', async () => {
    const server = createServer();
    answerClientErrors(server);
    const failed = once(server, 'clientError');
    server.on('request', (_req, res) => {
      res.writeHead(200, { 'Content-Length': '12' }).write('started ');
      void failed.then(() => res.end('done'));
    });
    const port = await listen(server);
    try {
      const reply = await raw(port, 'GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      assert.match(reply, /^HTTP\/1\.1 200 [^]*\r\n\r\nstarted doneHTTP\/1\.1 400 /, reply);
    } finally {
      server.close();
    }
  });
});

describe('requestIdOfFailedHead', () => {
  /** A parse error as Node reports it: the packet, and where in it the parser stopped. */
  const failed = (text: string, at: string): ParseError => Object.assign(new Error('Parse Error'), { rawPacket: Buffer.from(text, 'latin1'), bytesParsed: text.indexOf(at) });

  test('the X-Request-ID of the head the parser failed in, when it is a token', () => {
    assert.equal(requestIdOfFailedHead(failed('--G- / HTTP/1.1\r\nHost: x\r\nx-request-id: from-nginx\r\n\r\n', '--G-')), 'from-nginx');
    assert.equal(requestIdOfFailedHead(failed('GET / HTTP/1.1\r\nX-Request-ID: a\r\nBad Header: y\r\n\r\n', 'Bad')), 'a');
  });

  test('of pipelined heads, the one that failed; none when it gave none, or no token', () => {
    const pipelined = 'GET / HTTP/1.1\r\nX-Request-ID: first\r\n\r\n--G- / HTTP/1.1\r\nX-Request-ID: second\r\n\r\n';
    assert.equal(requestIdOfFailedHead(failed(pipelined, '--G-')), 'second');
    assert.equal(requestIdOfFailedHead(failed('GET / HTTP/1.1\r\nX-Request-ID: first\r\n\r\n--G- / HTTP/1.1\r\n\r\n', '--G-')), undefined);
    assert.equal(requestIdOfFailedHead(failed('--G- / HTTP/1.1\r\nX-Request-ID: bad id!\r\n\r\n', '--G-')), undefined);
    assert.equal(requestIdOfFailedHead(Object.assign(new Error('Parse Error'), {})), undefined);
  });
});

describe('answerClientErrors: the request id', () => {
  test("a request the parser refuses is answered with the request id it gave, in the header and the problem: nginx's, behind nginx", async () => {
    const server = createServer((_req, res) => res.end('ok'));
    answerClientErrors(server);
    const port = await listen(server);
    try {
      const answer = await raw(port, '--G- /redis HTTP/1.1\r\nHost: x\r\nX-Request-ID: from-nginx\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.match(answer, /\r\nX-Request-ID: from-nginx\r\n/);
      assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).requestId, 'from-nginx');
    } finally {
      server.close();
    }
  });
});

describe('answerClientErrors: CONNECT', () => {
  test('is answered as nginx answers it, never closed unanswered: 400 to an authority, 405 to a path', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    answerClientErrors(server);
    const port = await listen(server);
    try {
      const authority = await raw(port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      assert.match(authority, /^HTTP\/1\.1 400 /);
      assert.match(authority, /application\/problem\+json/);
      const path = await raw(port, 'CONNECT /redis HTTP/1.1\r\nHost: x\r\nX-Request-ID: given-1\r\n\r\n');
      assert.match(path, /^HTTP\/1\.1 405 /);
      assert.match(path, /\r\nX-Request-ID: given-1\r\n/);
      assert.equal(JSON.parse(path.slice(path.indexOf('\r\n\r\n') + 4)).requestId, 'given-1');
      const fine = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(fine, /^HTTP\/1\.1 200 /);
    } finally {
      server.close();
    }
  });
});

describe('closeServer', () => {
  test('closes idle keep-alive connections at once, lets an in-flight request finish, then resolves', async () => {
    let slowArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (slowArrived = resolve));
    // The slow request is answered when the test says so, not after a guessed delay.
    let answerSlow!: () => void;
    const slowMayAnswer = new Promise<void>((resolve) => (answerSlow = resolve));
    const server = createServer((req, res) => {
      if (req.url === '/slow') {
        slowArrived();
        void slowMayAnswer.then(() => res.end('slow done'));
      } else res.end('fast');
    });
    const port = await listen(server);
    // An idle keep-alive connection, and a request in flight.
    const agent = new Agent({ keepAlive: true });
    const idle = await new Promise<Socket>((resolve) => {
      const fast = request({ port, path: '/fast', agent }, (res) => res.resume().on('end', () => resolve(fast.socket!)));
      fast.end();
    });
    const idleClosed = once(idle, 'close');
    const slow = new Promise<string>((resolve, reject) => {
      request({ port, path: '/slow' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    await arrived;
    let timedOut = false;
    let closed = false;
    const closing = closeServer(server, 5_000, () => (timedOut = true)).then(() => (closed = true));
    await idleClosed;
    assert.equal(closed, false, 'still waiting for the request in flight');
    answerSlow();
    await closing;
    assert.equal(await slow, 'slow done');
    assert.equal(timedOut, false);
    agent.destroy();
  });

  test('cuts what is still open at the deadline', async () => {
    let hungArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (hungArrived = resolve));
    const server = createServer(() => hungArrived()); // never answers
    const port = await listen(server);
    const hung = new Promise<string>((resolve) => {
      request({ port, path: '/' }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')).end();
    });
    await arrived;
    let timedOut = false;
    await closeServer(server, 200, () => (timedOut = true));
    assert.equal(timedOut, true);
    assert.equal(await hung, 'ECONNRESET');
  });
});
