export * from './changed.js';
export * from './equivalents.js';
export * from './report.js';
export * from './score.js';
export * from './stryker-config.js';
export * from './targets.js';
export * from './verdict.js';
