#!/bin/sh
# Builds the workspaces named and what they depend on before an npm script runs its CLI. Turbo's banner and
# summary are shown only when the build fails, so `npm run --silent <script>` prints the CLI's own
# output and nothing else. Without `npm ci`, says so (instead of "sh: 1: turbo: not found").
set -eu
filters=''
for workspace in "$@"; do filters="$filters --filter=$workspace..."; done
root=$(cd "$(dirname "$0")/.." && pwd)
turbo="$root/node_modules/.bin/turbo"
if [ ! -x "$turbo" ]; then
  echo "three-tier: the dependencies are not installed: run \`npm ci\` in $root first" >&2
  exit 1
fi
log=$(mktemp)
# shellcheck disable=SC2086 # one word per filter
if ! (cd "$root" && node "$turbo" run build $filters --output-logs=errors-only) >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
