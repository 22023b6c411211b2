/**
 * A node:test reporter that writes one JSON line per test that begins to run or finishes. The runner reads it to
 * count the tests a file ran, and, when a file hangs, to name the tests still running.
 * Node loads it by path: `--test-reporter=<this file> --test-reporter-destination=<a file>`.
 */
export interface TestEvent {
  event: 'start' | 'pass' | 'fail';
  name: string;
  nesting: number;
  suite: boolean;
  skipped: boolean;
  /** A failed test's error, its first lines: what the run's last summary repeats. A suite has one
   * only when it failed on its own account (a hook), not because its tests did. */
  error?: string;
  /** Ended by its parent (a failed hook, the suite's timeout, the file's end), not by its own error. */
  cancelled?: boolean;
}

interface ReporterEvent {
  type: string;
  data: {
    name?: string;
    nesting?: number;
    skip?: unknown;
    todo?: unknown;
    details?: { type?: string; error?: { message?: unknown; cause?: unknown; failureType?: unknown } };
  };
}

/** The first lines of what failed: node:test wraps the test's own error as the cause of its own. */
function errorSummary(error: { message?: unknown; cause?: unknown } | undefined): string | undefined {
  if (!error) return undefined;
  const cause = error.cause as { message?: unknown } | undefined;
  const message = typeof cause?.message === 'string' ? cause.message : typeof error.message === 'string' ? error.message : '(no message)';
  const lines = message.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== '');
  const named = (cause as { name?: unknown } | undefined)?.name;
  const head = lines.slice(0, 3).join(' ⏎ ') || (typeof named === 'string' ? `${named}, without a message` : '(no message)');
  return head.length > 300 ? `${head.slice(0, 300)}…` : head;
}

/** What a fail event says of its error: nothing for a suite that failed only through its tests. */
function failure(details: ReporterEvent['data']['details']): Pick<TestEvent, 'error' | 'cancelled'> {
  const failureType = details?.error?.failureType;
  if (failureType === 'subtestsFailed') return {};
  return { error: errorSummary(details?.error), ...(failureType === 'cancelledByParent' ? { cancelled: true } : {}) };
}

export default async function* reporter(source: AsyncIterable<ReporterEvent>): AsyncGenerator<string> {
  for await (const { type, data } of source) {
    // dequeue is when a test begins to run; test:start only comes when its result is reported.
    const event = { 'test:dequeue': 'start', 'test:pass': 'pass', 'test:fail': 'fail' }[type];
    if (event === undefined) continue;
    const line: TestEvent = {
      event: event as TestEvent['event'],
      name: data.name ?? '',
      nesting: data.nesting ?? 0,
      suite: data.details?.type === 'suite',
      skipped: (data.skip ?? false) !== false || (data.todo ?? false) !== false,
      ...(event === 'fail' ? failure(data.details) : {}),
    };
    yield `${JSON.stringify(line)}\n`;
  }
}
