import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs the docker CLI and returns its stdout; a failure carries docker's own stderr. `input` goes
 * to its stdin (a password for `login --password-stdin`, never an argument).
 */
export async function docker(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string> {
  try {
    const pending = run('docker', [...args], { env, maxBuffer: 64 * 1024 * 1024 });
    pending.child.stdin?.end(input);
    const { stdout } = await pending;
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`docker ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
}

/** True when a Docker engine answers. */
export async function dockerAnswers(env?: NodeJS.ProcessEnv): Promise<boolean> {
  return docker(['info', '--format', '{{.ServerVersion}}'], env).then(
    () => true,
    () => false,
  );
}

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
}

interface Inspected {
  Id: string;
  Name: string;
  Config: { Hostname: string; User: string; Labels: Record<string, string> };
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null; Init: boolean | null };
  State: { Running: boolean; Health?: { Status: string } };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null; Networks: Record<string, unknown> };
}

export async function inspectContainers(ids: readonly string[], env?: NodeJS.ProcessEnv): Promise<ContainerFacts[]> {
  if (ids.length === 0) return [];
  const parsed = JSON.parse(await docker(['inspect', ...ids], env)) as Inspected[];
  return parsed.map((container) => ({
    id: container.Id,
    name: container.Name.replace(/^\//, ''),
    service: container.Config.Labels['com.docker.compose.service'] ?? '',
    hostname: container.Config.Hostname,
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
  }));
}
