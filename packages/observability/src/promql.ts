/** Small helpers that write PromQL, so a label or a selector is spelled in one place. */

/** `name{a="x",b=~"y"}`: values starting with `~` or `!` become =~ or != matchers. */
export function selector(name: string, labels: Readonly<Record<string, string>> = {}): string {
  const matchers = Object.entries(labels).map(([label, value]) => {
    if (value.startsWith('~')) return `${label}=~${JSON.stringify(value.slice(1))}`;
    if (value.startsWith('!')) return `${label}!=${JSON.stringify(value.slice(1))}`;
    return `${label}=${JSON.stringify(value)}`;
  });
  return matchers.length === 0 ? name : `${name}{${matchers.join(',')}}`;
}

/** The window of every rate: four scrapes at the compose interval, and short enough to react. */
export const rateWindow = '1m';

export function rate(series: string): string {
  return `rate(${series}[${rateWindow}])`;
}

export function sumBy(labels: readonly string[], expr: string): string {
  return labels.length === 0 ? `sum(${expr})` : `sum by (${labels.join(', ')}) (${expr})`;
}

export function quantile(q: number, bucketRate: string): string {
  return `histogram_quantile(${q}, ${bucketRate})`;
}
