export * from './http-server.js';
export * from './logger.js';
export * from './shutdown.js';
