/**
 * How the tiers may answer a hostile request differently, each way named with its reason. A
 * request with one fault gets the same first status from nginx, the http-proxy edge and the api
 * unless its fault names different ones; a request with several may be refused for any of them
 * (nginx checks sizes as it reads, Node's parser checks framing as it reads, and each checks the
 * rest afterwards, in its own order). A connection closed without an answer, an answer without a
 * status line, or an error without a body is a failure unless named here too.
 */
import { METHODS } from 'node:http';
import { apiServer, edge, headerNames, routeForPath, tokenRegExp } from '@three-tier/shared';
import type { FuzzCase, Outcome } from './fuzz.js';

export type Tier = 'nginx' | 'edge' | 'api';

/** A tier's first answer: its status, `HTTP/0.9` for bytes without a status line, or `closed` for no answer at all. */
export type FirstAnswer = number | 'HTTP/0.9' | 'closed';

/** What a case's bytes say, read the way a lenient reader would: enough to tell what is wrong with it. */
export interface RequestFacts {
  readonly method: string;
  readonly target: string;
  /** Undefined when the request line has none: HTTP/0.9's simple form. */
  readonly version: string | undefined;
  /** The request line up to the first line break, bare LF included. */
  readonly requestLine: string;
  /** The lines after the request line, up to the blank line. */
  readonly headerLines: readonly string[];
  /** Named headers, names lower-cased; lines without a colon are left out. */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** The head ends in a blank line: without one the request was cut short. */
  readonly headComplete: boolean;
  /** A line of the head ends in LF alone. */
  readonly bareLineFeed: boolean;
  /** Everything after the head: a body, and any request pipelined behind it. */
  readonly afterHead: string;
}

export function requestFacts(bytes: Buffer): RequestFacts {
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const [firstLine = '', ...headerLines] = head.split('\r\n');
  const requestLine = firstLine.split('\n', 1)[0] ?? '';
  const [method = '', target = '', version] = requestLine.split(' ');
  const headers = headerLines.flatMap((line) => {
    const colon = line.indexOf(':');
    return colon < 0 ? [] : [{ name: line.slice(0, colon).toLowerCase(), value: line.slice(colon + 1).trim() }];
  });
  return {
    method,
    target,
    version,
    requestLine,
    headerLines,
    headers,
    headComplete: headEnd >= 0,
    bareLineFeed: /(^|[^\r])\n/.test(head),
    afterHead: headEnd < 0 ? '' : text.slice(headEnd + 4),
  };
}

const values = (facts: RequestFacts, name: string): string[] => facts.headers.filter((header) => header.name === name).map((header) => header.value);

/** Within this many bytes of a limit, either side of it may be what a tier counted. */
const limitSlack = 64;
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const controlByte = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** How a chunked body ends: `bad` when a size is not hex or a chunk is cut, `short` when it stops before its last chunk. */
function chunkedBody(body: string): 'ok' | 'bad' | 'short' {
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd < 0) return rest === '' || /^[0-9A-Fa-f]+$/.test(rest) ? 'short' : 'bad';
    const sizeText = rest.slice(0, lineEnd);
    if (!/^[0-9A-Fa-f]+$/.test(sizeText)) return 'bad';
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) return 'ok';
    if (rest.length < lineEnd + 4 + size) return 'short';
    if (rest.slice(lineEnd + 2 + size, lineEnd + 4 + size) !== '\r\n') return 'bad';
    rest = rest.slice(lineEnd + 4 + size);
  }
}

/** How the body the head declares was sent, if it declares one the tiers would read. */
function declaredBody(facts: RequestFacts): 'none' | 'ok' | 'bad' | 'short' {
  const codings = values(facts, 'transfer-encoding');
  if (codings.length > 0) return chunkedBody(facts.afterHead);
  const [length] = values(facts, 'content-length');
  if (length === undefined || !/^\d+$/.test(length)) return 'none';
  return facts.afterHead.length < Number(length) ? 'short' : 'ok';
}

/** The target's path, or undefined when it has none (`*`, an authority, garbage). */
function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target.split('?', 1)[0];
  const absolute = /^https?:\/\/[^/?#]+(\/[^?#]*)?/i.exec(target);
  return absolute ? (absolute[1] ?? '/') : undefined;
}

/** First statuses a tier may give; `any`, that the tier does not see the fault at all. */
type Statuses = readonly number[] | 'any';

/** A fault a request can have, and the first statuses each tier may answer it with. */
interface Fault {
  readonly reason: string;
  /** `any`: this tier does not see the fault, and answers whatever the rest of the request earns. */
  readonly statuses: Readonly<Record<Tier, Statuses>>;
  readonly has: (facts: RequestFacts) => boolean;
}

const everywhere = (statuses: Statuses): Readonly<Record<Tier, Statuses>> => ({ nginx: statuses, edge: statuses, api: statuses });

/** The faults, by name, with their reasons. */
export const faults = {
  requestLineTooLong: {
    reason: "a request line over nginx's header buffer: 414 (the Node tiers check the same length)",
    statuses: everywhere([414]),
    has: (facts) => facts.requestLine.length + limitSlack > edge.maxHeaderBytes,
  },
  headerLineTooLong: {
    reason: "a header line over nginx's header buffer: 431 (the Node tiers check each line the same)",
    statuses: everywhere([431]),
    has: (facts) => facts.headerLines.some((line) => line.length + limitSlack > edge.maxHeaderBytes),
  },
  headTooLarge: {
    reason: "a head over nginx's four buffers and Node's maxHeaderSize: 431",
    statuses: everywhere([431]),
    has: (facts) => facts.requestLine.length + facts.headerLines.join('\r\n').length + limitSlack > apiServer.maxHeaderBytes,
  },
  version: {
    reason:
      'a version other than HTTP/1.0 and 1.1: nginx answers HTTP/0.9 written out, and a malformed version, with 400 and HTTP/2 and later with 505; Node answers 505, or 400 to a version it cannot parse',
    statuses: everywhere([400, 505]),
    has: (facts) => facts.version !== undefined && !(/^HTTP\/1\.[01]$/.test(facts.version) && facts.requestLine.split(' ').length === 3),
  },
  laterMinorVersion: {
    reason: "HTTP/1.2 and the like: nginx takes a later minor version as 1.1 and answers the rest (RFC 9110, 2.5, lets a server); Node's parser knows only 1.0 and 1.1 and refuses it: 400 or 505",
    statuses: { nginx: 'any', edge: [400, 505], api: [400, 505] },
    has: (facts) => /^HTTP\/1\.[2-9]$/.test(facts.version ?? ''),
  },
  noVersion: {
    reason: "a request line without a version (HTTP/0.9's simple form): Node refuses it with 505, or 400 when the line does not parse; nginx answers it without a status line (see silences)",
    statuses: { nginx: [], edge: [400, 505], api: [400, 505] },
    has: (facts) => facts.version === undefined,
  },
  bodyTooLarge: {
    reason: 'a body declared over the edge limit: 413',
    statuses: everywhere([413]),
    has: (facts) => values(facts, 'content-length').some((value) => /^\d+$/.test(value) && Number(value) > edge.maxBodyBytes),
  },
  framing: {
    reason:
      'the head cannot be read or the message cannot be framed (RFC 9112): a method or header name that is not a token; a control byte in a value; a folded line; a bare LF; Content-Length not a number, too big for one, or given twice; Transfer-Encoding with Content-Length, in HTTP/1.0, not ending in chunked, or on two lines: 400',
    statuses: everywhere([400]),
    has: (facts) => {
      const lengths = values(facts, 'content-length');
      const codings = values(facts, 'transfer-encoding').join(',');
      return (
        !token.test(facts.method) ||
        facts.bareLineFeed ||
        controlByte.test(facts.requestLine) ||
        facts.headerLines.some((line) => line.includes(':') && !token.test(line.slice(0, line.indexOf(':')))) ||
        facts.headers.some((header) => controlByte.test(header.value)) ||
        lengths.length > 1 ||
        lengths.some((value) => !/^\d{1,15}$/.test(value)) ||
        values(facts, 'transfer-encoding').length > 1 ||
        (codings !== '' && (lengths.length > 0 || facts.version === 'HTTP/1.0' || !/(^|,)\s*chunked$/i.test(codings) || /chunked\s*,/i.test(codings)))
      );
    },
  },
  badBody: {
    reason:
      'a chunked body that does not parse: nginx reads a body before it answers (400); the Node tiers answer a route, which takes no body, before they read it, so the bad chunk is found after the answer, or not at all',
    statuses: { nginx: [400], edge: 'any', api: 'any' },
    has: (facts) => declaredBody(facts) === 'bad',
  },
  cutShort: {
    reason:
      'the client ended before its head or its declared body was complete: there is no whole request; a tier may say 400, close without an answer (see silences), or, for a body, answer before it reads it',
    statuses: { nginx: [400], edge: 'any', api: 'any' },
    has: (facts) => !facts.headComplete || declaredBody(facts) === 'short',
  },
  host: {
    reason: 'HTTP/1.1 without Host, two Hosts, or one nginx finds invalid (empty, a slash, "..", a control byte): 400',
    statuses: everywhere([400]),
    has: (facts) => {
      const hosts = values(facts, 'host');
      return (facts.version === 'HTTP/1.1' && hosts.length === 0) || hosts.length > 1 || hosts.some((host) => host === '' || /[/\\\s]|\.\./.test(host) || controlByte.test(host));
    },
  },
  target: {
    reason:
      'a target that is not a plain path: not origin or absolute form, a bad or escaped-control escape, a backslash, dot segments (escaped too): nginx decodes and merges it before it routes (404) or refuses it (400); the Node tiers refuse what malformedRequest names (400) and route the rest as it is (404)',
    statuses: everywhere([400, 404]),
    has: (facts) => {
      const path = pathOf(facts.target);
      return (
        path === undefined ||
        /%(?![0-9A-Fa-f]{2})|%[01][0-9A-Fa-f]|%7f|%2e|%2f|%5c|\\/i.test(facts.target) ||
        /(^|\/)\.{1,2}(\/|$|;|\?)/.test(path) ||
        /[^\u0021-\u007e]/.test(facts.target)
      );
    },
  },
  route: {
    reason: 'no route has this path (the edges answer their own /edge/ paths, the api none of them): 404',
    statuses: everywhere([404]),
    has: (facts) => {
      const path = pathOf(facts.target.split('#', 1)[0] ?? '');
      return path === undefined || path === edge.healthPath || routeForPath(path)?.exposure !== 'public';
    },
  },
  unknownMethod: {
    reason: "a method Node's parser does not know (it knows a fixed list, http.METHODS): the Node tiers refuse it with 400; nginx takes any upper-case token and routes it (404, 405)",
    statuses: { nginx: 'any', edge: [400], api: [400] },
    has: (facts) => token.test(facts.method) && !METHODS.includes(facts.method),
  },
  method: {
    reason: 'a method other than GET and HEAD: 405',
    statuses: everywhere([405]),
    has: (facts) => facts.method !== 'GET' && facts.method !== 'HEAD',
  },
  idempotencyKey: {
    reason: 'the first Idempotency-Key is not empty and not a token (every tier reads the first, as nginx does): 400',
    statuses: everywhere([400]),
    has: (facts) => {
      const [first] = values(facts, headerNames.idempotencyKey.toLowerCase());
      return first !== undefined && first !== '' && !tokenRegExp.test(first);
    },
  },
  lineWithoutColon: {
    reason: "a header line without a colon: nginx skips it (ignore_invalid_headers) and answers the rest; Node's parser refuses the request with 400; neither can be told to do what the other does",
    statuses: { nginx: 'any', edge: [400], api: [400] },
    has: (facts) => facts.headerLines.some((line) => line !== '' && !line.includes(':')),
  },
} satisfies Record<string, Fault>;

export type FaultName = keyof typeof faults;

export function faultsOf(facts: RequestFacts): FaultName[] {
  return (Object.keys(faults) as FaultName[]).filter((name) => faults[name].has(facts));
}

/** No HTTP/1.x answer at all, allowed where named. */
interface AllowedSilence {
  readonly name: string;
  readonly reason: string;
  readonly tiers: readonly Tier[];
  readonly answer: 'HTTP/0.9' | 'closed';
  readonly applies: (facts: RequestFacts) => boolean;
}

export const allowedSilences: readonly AllowedSilence[] = [
  {
    name: 'HTTP/0.9',
    reason: "a request line without a version is HTTP/0.9's simple request: nginx answers it the 0.9 way, a body without a status line, and has no switch to refuse it",
    tiers: ['nginx'],
    answer: 'HTTP/0.9',
    applies: (facts) => facts.version === undefined && facts.target !== '',
  },
  {
    name: 'cut short',
    reason: 'the client ended before its head or its declared body was complete: nginx takes that as the client going away and closes',
    tiers: ['nginx'],
    answer: 'closed',
    applies: (facts) => faults.cutShort.has(facts),
  },
  {
    name: 'no request at all',
    reason: 'nothing but line-break bytes: RFC 9112 (2.2) has a server skip empty lines before a request line, and the client ended before it sent one: there is nothing to answer',
    tiers: ['nginx', 'edge', 'api'],
    answer: 'closed',
    applies: (facts) => /^[\r\n]*$/.test(facts.requestLine + facts.headerLines.join('') + facts.afterHead),
  },
  {
    name: 'body cut short',
    reason: "the client ended before its declared body was complete (after Expect: 100-continue, say): Node's parser may take that as the client going away and close",
    tiers: ['edge', 'api'],
    answer: 'closed',
    applies: (facts) => declaredBody(facts) === 'short',
  },
];

/** An error answer without a body, allowed where named (an answer to HEAD never has one). */
export const allowedEmptyErrors: readonly Omit<AllowedSilence, 'answer'>[] = [];

export function firstAnswer(outcome: Outcome): FirstAnswer {
  const first = outcome.answers[0];
  if (first) return first.status;
  return outcome.silent ? 'closed' : 'HTTP/0.9';
}

function silenceAllowed(facts: RequestFacts, tier: Tier, answer: 'HTTP/0.9' | 'closed'): boolean {
  return allowedSilences.some((allowed) => allowed.answer === answer && allowed.tiers.includes(tier) && allowed.applies(facts));
}

/**
 * What is wrong with how one tier answered one case, beyond the rules every answer keeps: no answer
 * at all, an answer without a status line, or an error without a body, unless named above.
 */
export function answerProblems(fuzzCase: FuzzCase, outcome: Outcome, tier: Tier): string[] {
  const facts = requestFacts(fuzzCase.bytes);
  const first = firstAnswer(outcome);
  const problems: string[] = [];
  if (typeof first !== 'number' && !silenceAllowed(facts, tier, first)) {
    problems.push(first === 'closed' ? 'closed the connection without an answer' : `answered without a status line: ${JSON.stringify(outcome.unparsed.slice(0, 60))}`);
  }
  const emptyErrors = outcome.answers.filter((answer, index) => answer.status >= 400 && answer.body === '' && !(index === 0 && facts.method === 'HEAD'));
  if (emptyErrors.length > 0 && !allowedEmptyErrors.some((allowed) => allowed.tiers.includes(tier) && allowed.applies(facts))) {
    problems.push(`a ${emptyErrors.map((answer) => answer.status).join(', ')} without a body`);
  }
  return problems;
}

/**
 * Whether the tiers' first answers to one case differ in a way nothing above names: undefined when
 * they are the same or every tier's answer is explained by a fault the request has (or a silence
 * named for it), else why not.
 */
export function tierDisagreement(fuzzCase: FuzzCase, answers: readonly { readonly tier: Tier; readonly answer: FirstAnswer }[]): string | undefined {
  if (new Set(answers.map(({ answer }) => answer)).size <= 1) return undefined;
  const facts = requestFacts(fuzzCase.bytes);
  const found = faultsOf(facts);
  const unexplained = answers.filter(({ tier, answer }) => {
    if (typeof answer !== 'number') return !silenceAllowed(facts, tier, answer);
    return !found.some((name) => {
      const statuses: Statuses = faults[name].statuses[tier];
      return statuses === 'any' || statuses.includes(answer);
    });
  });
  if (unexplained.length === 0) return undefined;
  return `faults found: ${found.join(', ') || 'none'}; not explained: ${unexplained.map(({ tier, answer }) => `${tier} ${answer}`).join(', ')}`;
}
