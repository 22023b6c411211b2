export * from './live-page.js';
export * from './load.js';
