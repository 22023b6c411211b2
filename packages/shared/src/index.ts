export * from './browser.js';
export * from './cli.js';
export * from './config.js';
export * from './http.js';
export * from './repository.js';
