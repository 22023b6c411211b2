/**
 * Where this repository is and which release it is. Computed from this file's own place, which is
 * the same in a clone (packages/cli-kit/dist/src) and in the api image (/app/packages/cli-kit/...).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (in the api image, /app), with a trailing slash. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

let version: string | undefined;

/**
 * The release version, from the root package.json: what the api reports, and the tag images are
 * pushed and deployed with. Read once, on first use.
 */
export function releaseVersion(): string {
  version ??= (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
