import { block, separated, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { clientIdentity } from './client-identity.js';
import { clientLimits, httpDefaults, writablePaths } from './http-settings.js';
import { accessLogging } from './logging.js';
import { rateLimitZones } from './rate-limits.js';
import { idempotencyKeyMap, requestIdMap } from './request-maps.js';
import { publicServer, statusServer } from './servers.js';
import { upstreamDefinition } from './upstream.js';

/** The http block: settings first, then what the servers read (maps, zones, the api), then the servers. */
export function httpBlock(target: Target): Node {
  return block('http', [], separated([
    writablePaths(target),
    [...httpDefaults(), ...accessLogging(target)],
    clientLimits(),
    [...clientIdentity(target), ...requestIdMap(), ...idempotencyKeyMap(target)],
    rateLimitZones(),
    upstreamDefinition(target),
    publicServer(target),
    statusServer(target),
  ]));
}
