import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertPortFree, commandOutput, Service, waitFor } from '@three-tier/processes';

export interface RegistryOptions {
  /** Debian's docker-registry (the CNCF distribution registry). */
  readonly bin: string;
  /** htpasswd from apache2-utils, for the bcrypt password file. */
  readonly htpasswd: string;
  readonly port: number;
  readonly dir: string;
  readonly user: string;
  readonly password: string;
}

/**
 * A real image registry on 127.0.0.1 with basic authentication (htpasswd, bcrypt), for pushing and
 * pulling the stack's images in tests. Docker talks plain HTTP to loopback registries.
 */
export class Registry extends Service {
  constructor(readonly options: RegistryOptions) {
    super('SIGTERM', 10_000);
  }

  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  async start(): Promise<void> {
    const { bin, htpasswd, port, dir, user, password } = this.options;
    await assertPortFree(port, 'docker-registry');
    await mkdir(join(dir, 'data'), { recursive: true });
    const users = await commandOutput(htpasswd, ['-Bbn', user, password]);
    await writeFile(join(dir, 'htpasswd'), users);
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'data')}`,
        'http:',
        `  addr: ${this.address}`,
        'auth:',
        '  htpasswd:',
        '    realm: three-tier',
        `    path: ${join(dir, 'htpasswd')}`,
        '',
      ].join('\n'),
    );
    await this.launch({ name: 'docker-registry', command: bin, args: ['serve', config] }, () =>
      // Up means: it answers, and asks for credentials.
      waitFor(async () => ((await fetch(`http://${this.address}/v2/`)).status === 401 ? true : undefined), {
        what: `docker-registry on ${this.address}`,
      }),
    );
  }
}
