/**
 * A readable, stable name and colour for an api instance. A container's hostname is a 12-character
 * id that nobody can tell from the next one at a glance; "amber-otter" in its own colour they can.
 * Derived from the hostname alone, so every tier (the page, `npm run chaos`, `npm run load`) names
 * an instance the same way without asking it.
 */

const adjectives = [
  'amber', 'azure', 'bold', 'brave', 'brisk', 'calm', 'clever', 'coral', 'cosmic', 'crimson', 'daring', 'dusty',
  'eager', 'electric', 'fancy', 'fierce', 'frosty', 'gentle', 'golden', 'happy', 'hidden', 'humble', 'icy', 'jolly',
  'keen', 'lively', 'lucky', 'lunar', 'mellow', 'misty', 'nimble', 'noble', 'olive', 'plucky', 'polar', 'proud',
  'quick', 'quiet', 'rapid', 'rosy', 'rusty', 'sandy', 'shiny', 'silent', 'silver', 'sleepy', 'snowy', 'solar',
  'spicy', 'steady', 'stormy', 'sunny', 'swift', 'tidy', 'tiny', 'urban', 'velvet', 'vivid', 'wandering', 'warm',
  'wild', 'windy', 'witty', 'zesty',
] as const;

const animals = [
  'badger', 'bat', 'bear', 'beaver', 'bison', 'camel', 'cat', 'cobra', 'crane', 'crow', 'deer', 'dingo', 'dolphin',
  'duck', 'eagle', 'eel', 'falcon', 'ferret', 'finch', 'fox', 'frog', 'gecko', 'goat', 'goose', 'hare', 'hawk',
  'heron', 'ibis', 'jackal', 'koala', 'lemur', 'lion', 'llama', 'lynx', 'mole', 'moose', 'newt', 'otter', 'owl',
  'panda', 'parrot', 'pelican', 'puffin', 'quail', 'rabbit', 'raven', 'seal', 'shark', 'sloth', 'snail', 'sparrow',
  'squid', 'stork', 'swan', 'tapir', 'tiger', 'toad', 'turtle', 'viper', 'walrus', 'whale', 'wolf', 'wombat', 'yak',
] as const;

/** 32-bit FNV-1a: small, stable across runtimes, and well spread for short ids. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** "amber-otter": the same for the same hostname, everywhere. */
export function instanceAlias(hostname: string): string {
  const hash = fnv1a(hostname);
  return `${adjectives[hash % adjectives.length]}-${animals[(hash >>> 8) % animals.length]}`;
}

/** "amber-otter (3f2c9a1e7b1d)": the alias to read, the hostname to find the instance by. */
export function instanceName(hostname: string): string {
  return `${instanceAlias(hostname)} (${hostname})`;
}

/** A hue (0 to 359) for the instance's colour; independent of its alias's words. */
export function instanceHue(hostname: string): number {
  return fnv1a(hostname, 0x2f6b1d3a) % 360;
}
