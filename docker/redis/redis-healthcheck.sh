#!/bin/sh
# Healthy when Redis answers PING with the password (REDISCLI_AUTH keeps it off the command line)
# and, as a replica, is in sync with its master: linked and streaming.
REDISCLI_AUTH=$(cat "${REDIS_PASSWORD_FILE:-/run/redis-auth/password}")
export REDISCLI_AUTH
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] || exit 1
replication=$(redis-cli -h 127.0.0.1 -p 6379 info replication 2>/dev/null | tr -d '\r')
case $replication in
  *role:slave*) case $replication in *master_link_status:up*) exit 0 ;; *) exit 1 ;; esac ;;
esac
