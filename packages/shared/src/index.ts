export * from './config.js';
export * from './edge-problems.js';
export * from './http.js';
export * from './responses.js';
export * from './routes.js';
export * from './topology.js';
