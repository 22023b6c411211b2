export * from './config.js';
export * from './native.js';
export * from './probes.js';
export * from './bases.js';
export * from './compose.js';
export * from './docker.js';
export * from './push.js';
export * from './load.js';
