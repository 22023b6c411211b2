import { composeFile, projectImage, registryComposePath, registryOverride, replicatedRedisComposeFile, replicatedRedisComposePath } from '@three-tier/deploy';
import { answersOk, composeFlavours, composeVersion, runCommand, waitFor, type ComposeFlavour } from '@three-tier/processes';
import { docker } from '@three-tier/release';
import { repoRoot } from '@three-tier/cli-kit';
import { edge, routes, services } from '@three-tier/shared';
import * as compose from 'docker-compose';
import type { IDockerComposeExecutableOptions, IDockerComposeOptions } from 'docker-compose';
import { inspectContainers, type ContainerFacts } from './containers.js';

export interface ComposeStackOptions {
  /** The compose project, letters and digits: containers, networks and volumes are named after it. */
  readonly project: string;
  /** Where nginx is published on 127.0.0.1. */
  readonly httpPort: number;
  /** The environment compose runs with: PATH and DOCKER_* plus the base images... */
  readonly env: NodeJS.ProcessEnv;
  readonly onOutput?: (text: string) => void;
  /** Which compose runs it; by default the plugin when there is one. */
  readonly flavour?: ComposeFlavour;
  /**
   * Compose profiles to run as well (`--profile`), e.g. `observability`. Their services are
   * not counted by `waitHealthy`: whoever asks for them checks them their own way.
   */
  readonly profiles?: readonly string[];
  /** The compose file, from the repository root; docker-compose.yml by default. */
  readonly file?: string;
  /**
   * The services that run one container each beside the api, all of which `waitHealthy` waits
   * for; nginx and Redis by default (docker-compose.yml's).
   */
  readonly singletons?: readonly string[];
  /**
   * Runs the images `npm run images:push` pushed (docker-compose.registry.yml names them
   * `<prefix>-api:<tag>`...) instead of the project's own builds.
   */
  readonly registry?: { readonly prefix: string; readonly tag: string };
}

/**
 * The stack as `docker compose up` runs it, from this repository's docker-compose.yml, driven
 * through the npm docker-compose package: build, up (and scale), inspect, kill, recreate, down.
 */
export class ComposeStack {
  private constructor(
    readonly options: ComposeStackOptions,
    private readonly executable: IDockerComposeExecutableOptions | undefined,
    /** What the compose reports, e.g. 2.26.1: how it names the images it builds. */
    readonly composeVersion: string,
  ) {}

  static async create(options: ComposeStackOptions): Promise<ComposeStack> {
    // docker-compose 1.29 drops anything but [a-z0-9] from a project name; v2 keeps it. Labels
    // carry the name each one uses, so only a name both keep as is can find the containers again.
    if (!/^[a-z0-9]+$/.test(options.project)) throw new Error(`compose project names must be [a-z0-9]+ (got ${options.project})`);
    const flavour = options.flavour ?? (await composeFlavours(options.env))[0];
    if (!flavour) throw new Error('no Docker Compose here: install docker-compose, or the Compose v2 plugin');
    return new ComposeStack(options, flavour === 'standalone' ? { standalone: true } : undefined, await composeVersion(flavour, options.env));
  }

  /** nginx, as published on the host. */
  get url(): string {
    return `http://127.0.0.1:${this.options.httpPort}`;
  }

  get flavour(): ComposeFlavour {
    return this.executable ? 'standalone' : 'plugin';
  }

  private settings(commandOptions: (string | string[])[] = []): IDockerComposeOptions {
    const { project, httpPort, env, onOutput, registry } = this.options;
    const pulled = registry ? { IMAGE_PREFIX: registry.prefix, TAG: registry.tag } : {};
    return {
      cwd: repoRoot,
      ...(registry ? { config: ['docker-compose.yml', registryComposePath] } : this.options.file ? { config: this.options.file } : {}),
      ...(this.executable ? { executable: this.executable } : {}),
      env: { ...env, ...pulled, COMPOSE_PROJECT_NAME: project, HTTP_PORT: String(httpPort), HTTP_HOST: '127.0.0.1' },
      // `docker compose --profile observability up ...`, as docs/observability.md writes it, on every command.
      ...(this.options.profiles ? { composeOptions: this.options.profiles.flatMap((profile) => ['--profile', profile]) } : {}),
      commandOptions,
      ...(onOutput ? { callback: (chunk: Buffer) => onOutput(chunk.toString()) } : {}),
    };
  }

  /** Pulls the images the registry override names (the option `registry`) instead of building them. */
  async pull(): Promise<void> {
    await compose.pullAll(this.settings());
  }

  async build(): Promise<void> {
    await compose.buildAll({ ...this.settings(), parallel: true });
  }

  /** Starts (or reconciles) the stack with `api` replicas and waits until every container is healthy. */
  async up(apiReplicas = 1): Promise<void> {
    // The library adds -d itself.
    await compose.upAll(this.settings(['--no-build', '--scale', `${services.api}=${apiReplicas}`]));
    await this.waitHealthy(apiReplicas);
  }

  /** Every container healthy, `apiReplicas` of them api, and /readyz answering through nginx. */
  async waitHealthy(apiReplicas: number, timeoutMs = 90_000): Promise<void> {
    await waitFor(
      async () => {
        const singletons = this.options.singletons ?? [services.edge, services.redis];
        const core: readonly string[] = [services.api, ...singletons];
        const containers = (await this.containers()).filter((container) => core.includes(container.service));
        const api = containers.filter((container) => container.service === services.api);
        const healthy = containers.every((container) => container.running && container.health === 'healthy');
        return healthy && api.length === apiReplicas && containers.length === apiReplicas + singletons.length ? true : undefined;
      },
      { what: `the compose stack healthy with ${apiReplicas} api replicas`, timeoutMs, intervalMs: 500 },
    );
    await waitFor(() => answersOk(`${this.url}${routes.readyz.path}`), { what: '/readyz through nginx', timeoutMs });
    await waitFor(() => answersOk(`${this.url}${edge.healthPath}`), { what: 'nginx health', timeoutMs });
  }

  /** The project's containers (running or not), optionally of one service. */
  async containers(service?: string): Promise<ContainerFacts[]> {
    const filters = ['--filter', `label=com.docker.compose.project=${this.options.project}`];
    if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
    const ids = (await docker(['ps', '--all', '--quiet', ...filters], this.options.env)).split('\n').filter(Boolean);
    return inspectContainers(ids, this.options.env);
  }

  async kill(containerId: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await docker(['kill', '--signal', signal, containerId], this.options.env);
  }

  /** A new container for `service` (its volumes kept), then healthy again. */
  async recreate(service: string, apiReplicas: number): Promise<void> {
    await compose.upMany([service], this.settings(['--no-build', '--no-deps', '--force-recreate']));
    await this.waitHealthy(apiReplicas);
  }

  /** `docker stop`: SIGTERM, then SIGKILL after the service's stop_grace_period. */
  async stop(containerId: string): Promise<void> {
    await docker(['stop', containerId], this.options.env);
  }

  async remove(containerId: string): Promise<void> {
    await docker(['rm', containerId], this.options.env);
  }

  /** Runs a command in one container, by id; a failing command is an answer, not an error. */
  async execIn(containerId: string, command: string[]): Promise<{ exitCode: number; out: string }> {
    const { code, stdout, stderr } = await runCommand('docker', ['exec', containerId, ...command], { env: this.options.env });
    return { exitCode: code ?? 1, out: `${stdout}${stderr}` };
  }

  /**
   * The images this stack builds: each service's, named for the project as this compose names
   * them. With `registry`, the pulled ones are the registry's, not the project's to remove.
   */
  get images(): string[] {
    const { project, profiles = [], registry } = this.options;
    const file = this.options.file === replicatedRedisComposePath ? replicatedRedisComposeFile() : composeFile();
    const pulled = Object.keys(registry ? (registryOverride(file).services ?? {}) : {});
    const built = Object.entries(file.services ?? {}).filter(
      ([name, service]) => !pulled.includes(name) && (service.profiles ?? []).every((profile) => profiles.includes(profile)),
    );
    return built.map(([name]) => projectImage(project, name, this.composeVersion));
  }

  /** Untags the stack's images; their untagged layers stay, as the build cache of the next run. */
  async removeImages(): Promise<void> {
    const present: string[] = [];
    for (const image of this.images) {
      if (await docker(['image', 'inspect', image], this.options.env).then(() => true, () => false)) present.push(image);
    }
    if (present.length > 0) await docker(['image', 'rm', '--no-prune', ...present], this.options.env);
  }

  /** What `down` should remove of this project: its containers, networks and volumes, by compose's label. */
  async resources(): Promise<string[]> {
    const { env, project } = this.options;
    const label = `label=com.docker.compose.project=${project}`;
    const list = async (args: string[]): Promise<string[]> => (await docker(args, env)).split('\n').filter(Boolean);
    const [containers, networks, volumes] = await Promise.all([
      list(['ps', '--all', '--filter', label, '--format', 'container {{.Names}}']),
      list(['network', 'ls', '--filter', label, '--format', 'network {{.Name}}']),
      list(['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}']),
    ]);
    return [...containers, ...networks, ...volumes];
  }

  /** Whatever of this project Docker still holds: containers, networks, volumes, image tags. */
  async leftovers(): Promise<string[]> {
    const images: string[] = [];
    for (const image of this.images) {
      if (await docker(['image', 'inspect', image], this.options.env).then(() => true, () => false)) images.push(`image ${image}`);
    }
    return [...(await this.resources()), ...images];
  }

  /** Stops and removes the containers; with `volumes`, the Redis data too. */
  async down(volumes: boolean): Promise<void> {
    await compose.downAll(this.settings(['--remove-orphans', '--timeout', '30', ...(volumes ? ['--volumes'] : [])]));
  }

  /** Runs a command in the first container of a service, e.g. to try reaching Redis from nginx. */
  async exec(service: string, command: string[]): Promise<{ exitCode: number | null; out: string; err: string }> {
    const result = await compose.exec(service, command, this.settings()).catch((error: unknown) => error as compose.IDockerComposeResult);
    return { exitCode: result.exitCode, out: result.out, err: result.err };
  }

  async logs(): Promise<string> {
    const result = await compose.logs([], this.settings(['--no-color', '--tail', '200']));
    return result.out;
  }
}
