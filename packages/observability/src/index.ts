export * from './dashboard.js';
export * from './prometheus-config.js';
export * from './promql.js';
export * from './queries.js';
export * from './rules.js';
export * from './scrape.js';
