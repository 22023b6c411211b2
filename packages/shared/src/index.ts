export * from './browser.js';
export * from './config.js';
export * from './http.js';
export * from './redis-replication.js';
