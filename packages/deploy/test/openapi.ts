/**
 * A strict check of manifests against the Kubernetes OpenAPI schema, unknown fields included.
 *
 * kubernetes-models validates types, enums and required fields but lets unknown fields through.
 * The model metadata of @kubernetes/client-node (generated from the OpenAPI spec of one Kubernetes
 * release) lists every field of every type, so walking a manifest against it finds the rest.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as generated from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

interface ModelClass {
  getAttributeTypeMap(): Attribute[];
}

const models = generated as unknown as Record<string, ModelClass | undefined>;

/** The Kubernetes release the schema comes from, as the generated code says. */
export const schemaRelease = (() => {
  const require = createRequire(import.meta.url);
  const source = readFileSync(join(dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist/gen/models/V1Deployment.js'), 'utf8');
  return /OpenAPI spec version: (\S+)/.exec(source)?.[1] ?? 'unknown';
})();

/** apps/v1 Deployment -> V1Deployment, autoscaling/v2 HorizontalPodAutoscaler -> V2HorizontalPodAutoscaler. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

function check(value: unknown, type: string, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1]) {
    if (!Array.isArray(value)) errors.push(`${path}: expected an array`);
    else value.forEach((item, index) => check(item, array[1] ?? '', `${path}[${index}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1]) {
    if (typeof value !== 'object' || Array.isArray(value)) errors.push(`${path}: expected a map`);
    else for (const [key, item] of Object.entries(value)) check(item, map[1], `${path}.${key}`, errors);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') errors.push(`${path}: expected a string`);
      return;
    case 'number':
      if (typeof value !== 'number') errors.push(`${path}: expected a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${path}: expected a boolean`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') errors.push(`${path}: expected an int or a string`);
      return;
    case 'any':
    case 'object':
      return;
  }
  const model = models[type];
  if (!model) {
    errors.push(`${path}: no schema for type ${type}`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${path}: expected an object (${type})`);
    return;
  }
  const attributes = model.getAttributeTypeMap();
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    if (!attribute) errors.push(`${path}.${key}: unknown field of ${type}`);
    else check(item, attribute.type, `${path}.${key}`, errors);
  }
}

/** Every field of the manifest that the schema does not know, or whose type is wrong. */
export function strictErrors(manifest: { apiVersion: string; kind: string }): string[] {
  const name = modelName(manifest.apiVersion, manifest.kind);
  if (!models[name]) return [`${manifest.apiVersion} ${manifest.kind}: not a type of Kubernetes ${schemaRelease}`];
  const errors: string[] = [];
  check(manifest, name, manifest.kind, errors);
  return errors;
}
