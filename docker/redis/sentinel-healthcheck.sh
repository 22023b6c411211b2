#!/bin/sh
# A Sentinel is healthy when it knows the master (REDISCLI_AUTH keeps the password off the command line).
REDISCLI_AUTH=$(cat "${REDIS_PASSWORD_FILE:-/run/redis-auth/password}")
export REDISCLI_AUTH
master=$(redis-cli -p 26379 SENTINEL get-master-addr-by-name "${REDIS_MASTER_NAME:?}" 2>/dev/null | head -n 1)
[ -n "$master" ]
