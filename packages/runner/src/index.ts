export * from './access-log.js';
export * from './config.js';
export * from './native-stack.js';
export * from './nginx-target.js';
export * from './restart-policy.js';
export * from './retry-log.js';
export * from './run-folder.js';
