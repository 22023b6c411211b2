/** Parses `90s`, `2m`, `1500ms` or a bare number of milliseconds; undefined when it is none of these. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  const scale = { ms: 1, s: 1_000, m: 60_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(match[1]) * scale);
  return ms > 0 ? ms : undefined;
}

/** `120 s`, `2.5 s`, `850 ms`: how the runner prints a limit or a duration. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1_000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
