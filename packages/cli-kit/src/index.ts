export * from './command-line.js';
export * from './repository.js';
