#!/bin/sh
# A Sentinel of the replicated Redis, kept running by this script (a crash starts it again in the
# same container, so its name and address stay). Sentinel rewrites its configuration as it learns
# the set (the master, the replicas, the other Sentinels, the epoch), so it runs from a copy on
# its own volume, seeded at the first start from the image's sentinel.conf (generated from the
# contract), with the first data node as the master to monitor. At every start the lines this
# script owns are written afresh: the port, this Sentinel's announced name, the password, and its
# staggered down-after time.
# Names a Sentinel cannot resolve as it loads its file are dropped or refused, so it starts once
# every member's name resolves (or after REDIS_FAILOVER_WITHIN_MS, whatever is missing).
set -eu
. /usr/local/lib/three-tier/redis-password.sh
. /usr/local/lib/three-tier/redis-members.sh

me=${REDIS_ANNOUNCE_HOST:?REDIS_ANNOUNCE_HOST is required}
sentinel_port=26379
conf=/var/lib/redis-sentinel/sentinel.conf

# down-after-milliseconds: the seed's, plus this Sentinel's place in REDIS_SENTINELS times the
# stagger, so that one of them reaches the quorum first and wins the vote (see downAfterStaggerMs).
down_after_ms() {
  base=$(awk '$1 == "sentinel" && $2 == "down-after-milliseconds" { print $4 }' /usr/local/etc/redis/sentinel.conf)
  place=0
  for sentinel in $(printf '%s' "$REDIS_SENTINELS" | tr ',' ' '); do
    [ "${sentinel%:*}" = "$me" ] && break
    place=$((place + 1))
  done
  echo $((base + place * ${REDIS_DOWN_AFTER_STAGGER_MS:?REDIS_DOWN_AFTER_STAGGER_MS is required}))
}

resolve_password
REDISCLI_AUTH=$password
export REDISCLI_AUTH
quoted=$(config_quoted "$password")

if [ ! -s "$conf" ]; then
  first=${REDIS_DATA_NODES%% *}
  sed "s/^sentinel monitor \([^ ]*\) [^ ]* /sentinel monitor \1 $first /" /usr/local/etc/redis/sentinel.conf >"$conf.new"
  mv -f "$conf.new" "$conf"
  say "seeded $conf: monitoring $master_name at $first"
fi
{
  grep -v -E '^(port|bind|dir|requirepass|user default|sentinel announce-ip|sentinel announce-port|sentinel auth-pass|sentinel down-after-milliseconds) ' "$conf" || true
  echo "port $sentinel_port"
  echo 'bind * -::*'
  echo 'dir /tmp'
  echo "sentinel announce-ip $me"
  echo "sentinel announce-port $sentinel_port"
  echo "requirepass $quoted"
  echo "sentinel auth-pass $master_name $quoted"
  echo "sentinel down-after-milliseconds $master_name $(down_after_ms)"
} >"$conf.new"
mv -f "$conf.new" "$conf"

wait_for_names() {
  deadline=$(($(now) + failover_within_s))
  names="$REDIS_DATA_NODES $(printf '%s' "$REDIS_SENTINELS" | tr ',' '\n' | sed 's/:[0-9]*$//' | tr '\n' ' ')"
  for name in $names; do
    until [ "$name" = "$me" ] || resolves "$name"; do
      if [ "$(now)" -ge "$deadline" ]; then
        say "$name does not resolve: starting without it"
        break
      fi
      sleep 0.2
    done
  done
}

# Redis refuses to load a file whose known replica or Sentinel does not resolve ("Wrong hostname or
# port"), and would exit at every start while that member is stopped. Such lines are dropped before
# each start: the Sentinels learn the member again from the master's INFO and the hello channel
# once it is back.
forget_unresolved() {
  while IFS= read -r line; do
    case $line in
      'sentinel known-replica '* | 'sentinel known-sentinel '*)
        # shellcheck disable=SC2086 # the line's words
        host=$(set -- $line && printf '%s' "$4")
        if ! resolves "$host"; then
          say "forgetting $host for now: it does not resolve"
          continue
        fi
        ;;
    esac
    printf '%s\n' "$line"
  done <"$conf" >"$conf.new"
  mv -f "$conf.new" "$conf"
}

stopping=0
pid=''
trap 'stopping=1; if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi' TERM INT
while [ "$stopping" = 0 ]; do
  wait_for_names
  [ "$stopping" = 0 ] || break
  forget_unresolved
  redis-sentinel "$conf" &
  pid=$!
  status=0
  wait "$pid" || status=$?
  if [ "$stopping" = 1 ]; then
    wait "$pid" 2>/dev/null || true
    break
  fi
  say "redis-sentinel exited ($status): starting it again"
  pid=''
  sleep 1
done
