import { docker } from '@three-tier/release';

/** What the tests read of `docker inspect` for a container. */
export interface ContainerFacts {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly hostname: string;
  readonly user: string;
  readonly readOnlyRoot: boolean;
  readonly capDrop: readonly string[];
  readonly securityOpt: readonly string[];
  readonly init: boolean;
  readonly health: string | undefined;
  readonly running: boolean;
  /** Host ports published, e.g. ["127.0.0.1:8080"]. */
  readonly publishedPorts: readonly string[];
  readonly networks: readonly string[];
  /** Its IPv4 address on each network it is attached to. */
  readonly addresses: Readonly<Record<string, string>>;
  /** When it was created: the oldest replica is the first to replace. */
  readonly created: string;
  /** How many times Docker restarted it under its restart policy. */
  readonly restarts: number;
}

interface Inspected {
  Id: string;
  Name: string;
  Created: string;
  RestartCount: number;
  Config: { Hostname: string; User: string; Labels: Record<string, string> };
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null; Init: boolean | null };
  State: { Running: boolean; Health?: { Status: string } };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null; Networks: Record<string, { IPAddress: string }> };
}

export async function inspectContainers(ids: readonly string[], env?: NodeJS.ProcessEnv): Promise<ContainerFacts[]> {
  if (ids.length === 0) return [];
  const parsed = JSON.parse(await docker(['inspect', ...ids], env)) as Inspected[];
  return parsed.map((container) => ({
    id: container.Id,
    name: container.Name.replace(/^\//, ''),
    service: container.Config.Labels['com.docker.compose.service'] ?? '',
    hostname: container.Config.Hostname,
    restarts: container.RestartCount,
    user: container.Config.User,
    readOnlyRoot: container.HostConfig.ReadonlyRootfs,
    capDrop: container.HostConfig.CapDrop ?? [],
    securityOpt: container.HostConfig.SecurityOpt ?? [],
    init: container.HostConfig.Init === true,
    health: container.State.Health?.Status,
    running: container.State.Running,
    publishedPorts: Object.values(container.NetworkSettings.Ports ?? {})
      .flatMap((bindings) => bindings ?? [])
      .map((binding) => `${binding.HostIp}:${binding.HostPort}`),
    networks: Object.keys(container.NetworkSettings.Networks),
    addresses: Object.fromEntries(Object.entries(container.NetworkSettings.Networks).map(([network, settings]) => [network, settings.IPAddress])),
    created: container.Created,
  }));
}
