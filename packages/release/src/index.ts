export * from './base-images.js';
export * from './docker.js';
export * from './push.js';
