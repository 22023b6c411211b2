import type { CounterBody, InstanceBody, LoadBody } from '@three-tier/shared/browser';

export interface CallResult {
  /** 0: no answer at all (see `error`). */
  readonly status: number;
  readonly ok: boolean;
  /** The answer's JSON, unchecked; undefined when it was not JSON. */
  readonly body: unknown;
  readonly ms: number;
  readonly error?: string;
}

/** One request with a deadline; never throws: a failure is an answer with status 0. */
export async function call(path: string, timeoutMs: number): Promise<CallResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const began = performance.now();
  try {
    const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, ok: response.ok, body, ms: performance.now() - began };
  } catch {
    const error = controller.signal.aborted
      ? `no answer within ${timeoutMs / 1000} s: the edge, or the instance it chose, is slow`
      : 'the connection failed';
    return { status: 0, ok: false, body: undefined, ms: performance.now() - began, error };
  } finally {
    clearTimeout(timer);
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** A visit's 503 said it may have been counted (`visit: unconfirmed`). */
export function mayBeCounted(result: CallResult): boolean {
  return field(result.body, 'visit') === 'unconfirmed';
}

/** What went wrong, in words: the problem's detail when there is one. */
export function failure(result: CallResult): string {
  if (result.status === 0) return result.error ?? 'no answer';
  const detail = field(result.body, 'detail');
  return typeof detail === 'string' && detail ? `${result.status} · ${detail}` : String(result.status);
}

/** The instance that answered a successful call, if the answer names one. */
export function answeredBy(result: CallResult): string | undefined {
  const hostname = field(result.body, 'hostname');
  return result.ok && typeof hostname === 'string' && hostname ? hostname : undefined;
}

/** The api's answers, as the contract types them, once they name their instance. */
export function instanceBody(result: CallResult): InstanceBody | undefined {
  return answeredBy(result) ? (result.body as InstanceBody) : undefined;
}

export function counterBody(result: CallResult): CounterBody | undefined {
  return answeredBy(result) && typeof field(result.body, 'hits') === 'number' ? (result.body as CounterBody) : undefined;
}

export function loadBody(result: CallResult): LoadBody | undefined {
  return answeredBy(result) ? (result.body as LoadBody) : undefined;
}
