#!/bin/sh
# Starts the single Redis with a password, always (see redis-password.sh for where it comes from).
# docker-compose.yml shares the password file's volume with the api, read-only.
set -eu
. /usr/local/lib/three-tier/redis-password.sh
resolve_password
write_exporter_passwords
(umask 077 && printf 'requirepass %s\n' "$(config_quoted "$password")" >/tmp/redis-auth.conf)
exec redis-server /usr/local/etc/redis/three-tier.conf "$@"
