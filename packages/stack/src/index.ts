export * from './config.js';
export * from './native.js';
export * from './probes.js';
