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
}

interface ReporterEvent {
  type: string;
  data: { name?: string; nesting?: number; skip?: unknown; todo?: unknown; details?: { type?: string } };
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
    };
    yield `${JSON.stringify(line)}\n`;
  }
}
