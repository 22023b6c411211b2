export * from './compose.js';
export * from './compose-replicated.js';
export * from './files.js';
export * from './images.js';
export * from './kubernetes/index.js';
export * from './nginx-targets.js';
