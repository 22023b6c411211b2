#!/bin/sh
# Starts Redis with a password, always:
#   - REDIS_PASSWORD when it is set (and recorded in REDIS_PASSWORD_FILE for the api, if writable);
#   - else the one already in REDIS_PASSWORD_FILE (a mounted secret, or generated earlier);
#   - else a new random one, written there at the first start.
# docker-compose.yml shares that file's volume with the api, read-only.
set -eu
file=${REDIS_PASSWORD_FILE:-/run/redis-auth/password}
dir=$(dirname "$file")

if [ -n "${REDIS_PASSWORD:-}" ]; then
  password=$REDIS_PASSWORD
  if [ -w "$dir" ]; then (umask 022 && printf '%s' "$password" >"$file"); fi
elif [ -s "$file" ]; then
  password=$(cat "$file")
elif [ -w "$dir" ]; then
  password=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)
  (umask 022 && printf '%s' "$password" >"$file")
  echo "start-redis: generated a password in $file" >&2
else
  echo "start-redis: no password: set REDIS_PASSWORD or mount one at $file" >&2
  exit 1
fi
unset REDIS_PASSWORD

# The Redis exporter (compose profile observability) reads a JSON map of address to password.
if [ -n "${REDIS_EXPORTER_ADDR:-}" ] && [ -w "$dir" ]; then
  json=$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')
  (umask 022 && printf '{"%s": "%s"}\n' "$REDIS_EXPORTER_ADDR" "$json" >"$dir/exporter-passwords.json")
fi

# Redis's own quoting: the value between double quotes, backslashes and quotes escaped.
(umask 077 && printf 'requirepass "%s"\n' "$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')" >/tmp/redis-auth.conf)
exec redis-server /usr/local/etc/redis/three-tier.conf "$@"
