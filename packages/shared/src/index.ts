export * from './budgets.js';
export * from './config.js';
export * from './edge-problems.js';
export * from './http.js';
export * from './repository.js';
export * from './responses.js';
export * from './routes.js';
export * from './topology.js';
