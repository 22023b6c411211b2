/** How numbers from the contract are written in nginx.conf. */

/** nginx time: whole seconds as `30s`, anything finer as `1500ms`. */
export const ms = (value: number): string => (value % 1_000 === 0 ? `${value / 1_000}s` : `${value}ms`);

/** nginx size: whole kibibytes as `16k`. */
export const size = (bytes: number): string => (bytes % 1_024 === 0 ? `${bytes / 1_024}k` : String(bytes));
