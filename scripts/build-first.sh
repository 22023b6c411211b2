#!/bin/sh
# Builds a workspace and what it depends on before an npm script runs its CLI. Turbo's banner and
# summary are shown only when the build fails, so `npm run --silent <script>` prints the CLI's own
# output and nothing else. Without `npm ci`, says so (instead of "sh: 1: turbo: not found").
set -eu
workspace=$1
root=$(cd "$(dirname "$0")/.." && pwd)
turbo="$root/node_modules/.bin/turbo"
if [ ! -x "$turbo" ]; then
  echo "three-tier: the dependencies are not installed: run \`npm ci\` in $root first" >&2
  exit 1
fi
log=$(mktemp)
if ! (cd "$root" && node "$turbo" run build --filter="$workspace..." --output-logs=errors-only) >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
