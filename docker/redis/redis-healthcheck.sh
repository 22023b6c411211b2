#!/bin/sh
# Healthy when Redis answers PING with the password; REDISCLI_AUTH keeps it off the command line.
REDISCLI_AUTH=$(cat "${REDIS_PASSWORD_FILE:-/run/redis-auth/password}")
export REDISCLI_AUTH
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
