# Sourced by the replicated Redis's start scripts and health checks: what a member asks the others.
# Every member is known by a name that resolves where it runs (a compose service, a pod of a
# headless Service), set by the deployment:
#   REDIS_ANNOUNCE_HOST  this member's own name, the one it announces
#   REDIS_DATA_NODES     the data nodes' names, space-separated; the first is the first master
#   REDIS_SENTINELS      the Sentinels, host:port, comma-separated (as the api takes them)
#   REDIS_MASTER_NAME    the name the Sentinels monitor the set as
#   REDIS_FAILOVER_WITHIN_MS  how long a failover may take (budgets.failoverWithinMs): every wait ends by then
#   REDIS_DOWN_AFTER_STAGGER_MS  how much later than the one before it each Sentinel deems the master down
# A caller sets REDISCLI_AUTH (the password) before asking.

redis_port=6379
master_name=${REDIS_MASTER_NAME:?REDIS_MASTER_NAME is required}
failover_within_s=$(( (${REDIS_FAILOVER_WITHIN_MS:?REDIS_FAILOVER_WITHIN_MS is required} + 999) / 1000 ))

say() { printf '%s: %s\n' "${REDIS_ANNOUNCE_HOST:-member}" "$*" >&2; }

# One command to one member, never waiting more than 2 s (a frozen peer must not hold a start).
ask() {
  host=$1 port=$2
  shift 2
  timeout 2 redis-cli -h "$host" -p "$port" "$@" 2>/dev/null
}

answers_ping() { [ "$(ask "$1" "${2:-$redis_port}" PING)" = PONG ]; }

# Whether a name resolves now (a stopped compose container's does not).
resolves() { getent hosts "$1" >/dev/null 2>&1; }

# What the Sentinels say of the master, by the newest configuration epoch among those that answer:
# "host port flags agree heard-ms", or nothing when none answers. flags joins the flags of every
# Sentinel naming that master (one failing it over shows), agree is 1 when every Sentinel that
# answered names it, heard-ms the longest any of them has gone without a good PING reply from it.
sentinel_view() {
  views=''
  for sentinel in $(printf '%s' "${REDIS_SENTINELS:?REDIS_SENTINELS is required}" | tr ',' ' '); do
    line=$(ask "${sentinel%:*}" "${sentinel##*:}" SENTINEL MASTER "$master_name" |
      awk 'NR % 2 == 1 { key = $0; next } { value[key] = $0 }
           END { if (value["ip"] != "") print value["config-epoch"], value["ip"], value["port"], value["flags"], value["last-ok-ping-reply"] }')
    [ -z "$line" ] || views="$views$line
"
  done
  printf '%s' "$views" | awk '
    { n++; ip[n] = $2; port[n] = $3; flags[n] = $4; heard[n] = $5 + 0
      if (best == 0 || $1 + 0 > epoch) { best = n; epoch = $1 + 0 } }
    END {
      if (best == 0) exit
      all = ""; agree = 1; oldest = 0
      for (i = 1; i <= n; i++) {
        if (ip[i] != ip[best]) { agree = 0; continue }
        all = all (all == "" ? "" : ",") flags[i]
        if (heard[i] > oldest) oldest = heard[i]
      }
      printf "%s %s %s %d %d", ip[best], port[best], all, agree, oldest
    }'
}

# Milliseconds since boot (the kernel's, as any image has): how long something has lasted.
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# Seconds since the epoch: the deadlines below.
now() { date +%s; }
