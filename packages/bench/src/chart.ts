/**
 * The headline cases as a hand-written SVG: horizontal bars of req/s and of CPU µs per request,
 * each labelled with its ratio to the Express hello world. No charting dependency for two panels.
 */
import { helloId, referenceIds, stackIds } from './ids.js';
import type { Report } from './report.js';
import type { Result } from './rounds.js';

/** The cases the chart shows, in this order. */
export const headlineIds = [
  helloId,
  referenceIds.raw,
  referenceIds.rawBareNginx,
  referenceIds.rawOurNginx,
  referenceIds.course,
  referenceIds.courseNginx,
  stackIds.directInfo,
  stackIds.directWarn,
  stackIds.nginxInfo,
  stackIds.nginxWarn,
  stackIds.proxyInfo,
  'nginx-info-key:/redis',
] as const;

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const rowHeight = 22;
const labelWidth = 330;
const barWidth = 380;
const width = labelWidth + barWidth + 170;

function panel(title: string, rows: readonly Result[], value: (row: Result) => number, unit: string, top: number, hello: Result): string[] {
  const max = Math.max(...rows.map(value)) || 1;
  const parts = [`<text x="10" y="${top + 16}" class="title">${escape(title)}</text>`];
  rows.forEach((row, i) => {
    const y = top + 28 + i * rowHeight;
    const length = Math.max(1, (value(row) / max) * barWidth);
    const versus = row.id === helloId ? 'baseline' : `${(value(row) / value(hello)).toFixed(2)}x hello`;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(row.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${length.toFixed(1)}" height="${rowHeight - 6}" class="${row.group}"/>`,
      `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 14}">${Math.round(value(row))} ${unit} (${versus})</text>`,
    );
  });
  return parts;
}

/** The SVG text, or undefined when the hello world was not measured. */
export function chart(report: Report): string | undefined {
  const byId = new Map(report.results.map((result) => [result.id, result]));
  const hello = byId.get(helloId);
  const rows = headlineIds.map((id) => byId.get(id)).filter((row): row is Result => row !== undefined);
  if (!hello) return undefined;
  const panelHeight = 36 + rows.length * rowHeight;
  const height = 40 + 2 * panelHeight + 24;
  const { settings } = report;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    '<style>text{fill:#222}.title{font-weight:bold;font-size:13px}.reference{fill:#9aa5b1}.project{fill:#2b6cb0}.feature{fill:#2f855a}.note{fill:#555;font-size:11px}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" class="title">npm run bench, ${escape(report.date)}: GET /redis, wrk -t1 -c${settings.connections}, ${settings.cores} cores, medians of ${settings.rounds} x ${settings.seconds} s</text>`,
    ...panel('Requests per second (higher is better)', rows, (row) => row.rps, 'req/s', 36, hello),
    ...panel('CPU µs per request, all serving processes (lower is better)', rows, (row) => row.cpuUsTotal, 'µs', 36 + panelHeight, hello),
    `<text x="10" y="${height - 10}" class="note">Grey: references started by the bench (hello world is GET /). Blue: the project as npm start runs it. Ratios within one run; the machine is shared.</text>`,
    '</svg>',
    '',
  ].join('\n');
}
