export * from './binaries.js';
export * from './child.js';
export * from './nginx.js';
export * from './node-service.js';
export * from './ports.js';
export * from './redis-server.js';
export * from './service.js';
export * from './wait.js';
