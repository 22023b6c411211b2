#!/usr/bin/env node
// The command every package's `npm test` runs. It is a file in the repository, not in dist/, so
// that `npm ci` finds it and links it into node_modules/.bin (npm leaves out a bin whose file does
// not exist yet); the CLI it loads is built by turbo before any package's tests.
try {
  await import('../dist/src/cli.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('/test-files/dist/src/cli.js')) {
    process.stderr.write('run-test-files: not built yet: run `npx turbo run build --filter=@three-tier/test-files`\n');
    process.exit(2);
  }
  throw error;
}
