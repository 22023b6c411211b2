#!/usr/bin/env node
/**
 * three-tier-release images-push (`npm run images:push`): builds the three images, tags each with
 * the commit, the version and latest, and pushes them. Settings from the environment, parsed once.
 */
import { envOrExit, exitWith, parseCommandLine } from '@three-tier/cli-kit';
import { z } from 'zod';
import { pushImages } from './push.js';

const usage = `usage: three-tier-release images-push

Builds <IMAGE_PREFIX>-api, -nginx and -redis from docker/ (base images: NODE_IMAGE, NGINX_IMAGE,
REDIS_IMAGE, else the official ones, else local stand-ins), tags each with the commit, the version
and latest, logs in with REGISTRY_USER and REGISTRY_PASSWORD (else docker's own credentials) and
pushes every tag. Prints "pushed <reference>" for each on stdout, progress on stderr.

  IMAGE_PREFIX        required: alice/three-tier (Docker Hub user alice), registry.example.com/team/three-tier
  REGISTRY            the server to log in to; by default the host in IMAGE_PREFIX, else docker.io
  REGISTRY_USER       the login (an access token as REGISTRY_PASSWORD for Docker Hub)
  REGISTRY_PASSWORD

  -h, --help          this text
`;

const pushEnvSchema = z
  .object({
    IMAGE_PREFIX: z
      .string({ error: 'is not set: e.g. IMAGE_PREFIX=alice/three-tier for Docker Hub user alice' })
      .min(1)
      .regex(/\//, { error: 'must name your namespace, e.g. alice/three-tier for Docker Hub' }),
    REGISTRY: z.string().min(1).optional(),
    REGISTRY_USER: z.string().min(1).optional(),
    REGISTRY_PASSWORD: z.string().min(1).optional(),
  })
  .refine((env) => (env.REGISTRY_USER === undefined) === (env.REGISTRY_PASSWORD === undefined), {
    error: 'REGISTRY_USER and REGISTRY_PASSWORD go together: set both, or neither to use docker login',
  });

const cli = { program: 'images-push', usage };
const { positionals } = parseCommandLine(cli, {});
if (positionals.join(' ') !== 'images-push') exitWith(cli, `unknown command ${JSON.stringify(positionals.join(' '))}`, 2);
const env = envOrExit(cli, pushEnvSchema, process.env);

try {
  const pushed = await pushImages({
    imagePrefix: env.IMAGE_PREFIX,
    registry: env.REGISTRY,
    user: env.REGISTRY_USER,
    password: env.REGISTRY_PASSWORD,
    // docker itself reads its environment (PATH, DOCKER_HOST, DOCKER_CONFIG), and the base images.
    env: process.env,
    log: (line) => process.stderr.write(`images-push | ${line}\n`),
  });
  for (const reference of pushed) process.stdout.write(`pushed ${reference}\n`);
} catch (error) {
  exitWith(cli, error instanceof Error ? error.message : String(error));
}
