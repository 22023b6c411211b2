export * from './compose-stack.js';
export * from './containers.js';
export * from './probes.js';
export * from './registry.js';
