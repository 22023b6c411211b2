#!/bin/sh
# A data node of the replicated Redis: redis-server as master or replica, kept running by this
# script. A redis-server that dies (a crash, a SIGKILL) is started again here, so the container
# stays: its name keeps resolving and its address stays the same, which the Sentinels need (they
# resolve a name once and keep the address). The role is decided at each start:
#   - what the Sentinels say, when one answers: follow the master they name once every Sentinel
#     names it, none is failing it over and each has heard it since it answers again (as natively:
#     packages/processes' roleFor), or be it, but never while they are failing this node over, and
#     never straight back after a crash while a replica could take over (the Sentinels must see the
#     master gone to replace it);
#   - else the role this node last had (Sentinels rewrite it into /data/node.conf with CONFIG
#     REWRITE when they change it), so a set started again with its Sentinels finds its master.
# Each wait ends after REDIS_FAILOVER_WITHIN_MS. A watchdog beside it mends what a replaced
# container leaves behind: a master the Sentinels replaced while it was away follows the new one,
# and a Sentinel that lost this node's address (it was resolved before a restart) is reset.
set -eu
. /usr/local/lib/three-tier/redis-password.sh
. /usr/local/lib/three-tier/redis-members.sh

me=${REDIS_ANNOUNCE_HOST:?REDIS_ANNOUNCE_HOST is required}
conf=/data/node.conf

resolve_password
write_exporter_passwords
REDISCLI_AUTH=$password
export REDISCLI_AUTH
quoted=$(config_quoted "$password")
(umask 077 && printf 'requirepass %s\nmasterauth %s\n' "$quoted" "$quoted" >/tmp/redis-auth.conf)

other_node_answers() {
  for node in $REDIS_DATA_NODES; do
    [ "$node" != "$me" ] && answers_ping "$node" && return 0
  done
  return 1
}

# The master this node followed last (nothing: it was master). At the very first start, the first
# data node is master.
last_master() {
  if [ -f "$conf" ]; then
    awk '$1 == "replicaof" || $1 == "slaveof" { host = $2 } END { print host }' "$conf"
  elif [ "${REDIS_DATA_NODES%% *}" != "$me" ]; then
    printf '%s' "${REDIS_DATA_NODES%% *}"
  fi
}

# Sets $follow: the master to replicate, or nothing to start as master. $1 is 1 after a crash.
decide_role() {
  deadline=$(($(now) + failover_within_s))
  answering=''
  while [ "$stopping" = 0 ]; do
    late=0
    [ "$(now)" -lt "$deadline" ] || late=1
    view=$(sentinel_view)
    if [ -z "$view" ]; then
      if [ "$late" = 1 ]; then
        follow=$(last_master)
        say "no Sentinel answers: starting as this node last was"
        return
      fi
    else
      # shellcheck disable=SC2086 # host port flags
      set -- $view
      if [ "$1" = "$me" ]; then
        case $3 in *s_down* | *o_down* | *failover_in_progress*) replacing=1 ;; *) replacing=0 ;; esac
        if [ "$late" = 1 ] || ! other_node_answers || { [ "$replacing" = 0 ] && [ "$crashed" = 0 ]; }; then
          follow=''
          return
        fi
      elif [ "$late" = 1 ]; then
        follow=$1
        return
      elif answers_ping "$1"; then
        # A replica back before its master was seen again could be promoted without the visits it
        # missed (a Sentinel finishes a failover it began even if the master returns), and the
        # master then resynchronised from it: so only once every Sentinel names this master, none
        # is failing it over and each has heard it since it answers again.
        if [ "$answering" != "$1" ]; then
          answering=$1
          answering_since=$(now_ms)
        fi
        case $3 in
          *s_down* | *o_down* | *failover_in_progress*) ;;
          *) if [ "$4" = 1 ] && [ "$5" -lt $(($(now_ms) - answering_since)) ]; then
            follow=$1
            return
          fi ;;
        esac
      else
        answering=''
      fi
    fi
    sleep 0.2
  done
}

write_config() {
  {
    echo 'include /usr/local/etc/redis/three-tier.conf'
    echo 'include /usr/local/etc/redis/data-node.conf'
    echo "replica-announce-ip $me"
    if [ -n "$follow" ]; then echo "replicaof $follow $redis_port"; fi
  } >"$conf.new"
  mv -f "$conf.new" "$conf"
}

role() { ask 127.0.0.1 "$redis_port" INFO replication | tr -d '\r' | awk -F: '$1 == "role" { print $2 }'; }

# Once a second while the container runs. Both mends wait for the Sentinels to agree first.
watchdog() {
  set +e
  unseen=0
  while kill -0 "$$" 2>/dev/null; do
    sleep 1
    view=$(sentinel_view)
    [ -n "$view" ] || continue
    # shellcheck disable=SC2086 # host port flags
    set -- $view
    [ "$4" = 1 ] || continue
    case $3 in *s_down* | *o_down* | *failover_in_progress*) continue ;; esac
    current=$(role)
    if [ "$current" = master ] && [ "$1" != "$me" ] && answers_ping "$1"; then
      say "the Sentinels name $1 master: following it"
      ask 127.0.0.1 "$redis_port" REPLICAOF "$1" "$redis_port" >/dev/null
      ask 127.0.0.1 "$redis_port" CONFIG REWRITE >/dev/null
    elif [ "$current" = slave ]; then
      blind=''
      for sentinel in $(printf '%s' "$REDIS_SENTINELS" | tr ',' ' '); do
        flags=$(ask "${sentinel%:*}" "${sentinel##*:}" SENTINEL REPLICAS "$master_name" |
          awk -v me="$me:$redis_port" 'NR % 2 == 1 { key = $0; next }
            key == "name" { name = $0 } key == "flags" && name == me { print $0 }')
        case $flags in *s_down* | *disconnected*) blind="$blind $sentinel" ;; esac
      done
      if [ -z "$blind" ]; then unseen=0; else unseen=$((unseen + 1)); fi
      # Seen down this long while it runs: those Sentinels hold an address this node no longer has.
      if [ "$unseen" -gt "$failover_within_s" ]; then
        for sentinel in $blind; do
          say "$sentinel sees this node down while it runs: resetting it to find the set again"
          ask "${sentinel%:*}" "${sentinel##*:}" SENTINEL RESET "$master_name" >/dev/null
        done
        unseen=0
      fi
    fi
  done
}

stopping=0
crashed=0
pid=''
trap 'stopping=1; if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi' TERM INT
watchdog &
while [ "$stopping" = 0 ]; do
  decide_role
  [ "$stopping" = 0 ] || break
  write_config
  if [ -n "$follow" ]; then say "starting as a replica of $follow"; else say "starting as master"; fi
  redis-server "$conf" &
  pid=$!
  status=0
  wait "$pid" || status=$?
  if [ "$stopping" = 1 ]; then
    wait "$pid" 2>/dev/null || true
    break
  fi
  say "redis-server exited ($status): starting it again"
  pid=''
  crashed=1
  sleep 1
done
