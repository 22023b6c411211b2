#!/bin/sh
# The system packages the stack needs, checked before `npm start` and `npm test` (npm runs this as
# their pre-script) and by .ci/run. Where something is missing and we are root with apt-get, it is
# installed (announced first); elsewhere we stop with the command that installs it.
#
#   sh scripts/prerequisites.sh start   redis-server required; nginx wanted (else the http-proxy edge),
#                                       redis-sentinel wanted (Redis with replicas and Sentinels)
#   sh scripts/prerequisites.sh bench   redis-server, nginx and wrk (the load generator)
#   sh scripts/prerequisites.sh mutate  redis-server, redis-sentinel and nginx (the tests Stryker runs),
#                                       git (--changed)
#   sh scripts/prerequisites.sh test    all of the above, and Docker with Compose, debootstrap (for
#                                       offline base images), docker-registry and htpasswd (for the
#                                       push test), kubectl (kustomize), chromium (the page's browser
#                                       test), promtool (prometheus: the rules' checks and unit tests),
#                                       git (the push test tags images with the commit); a Docker
#                                       engine must answer. wrk too: CI runs the bench after the tests.
#                                       redis-sentinel (the replicated Redis's tests).
#   sh scripts/prerequisites.sh test-packages   the same packages, no engine check (.ci/run starts
#                                       dockerd after installing it)
#
# packages/e2e/test/prerequisites.test.ts reads the lists below and fails on any program the code
# or CI runs that they do not install (or that Debian does not always have).
set -eu

profile=${1:-test}
engine_check=no
case "$profile" in
  start | bench | mutate) ;;
  test) engine_check=yes ;;
  test-packages) profile=test ;;
  *) echo "usage: $0 start|bench|mutate|test|test-packages" >&2; exit 2 ;;
esac

say() { printf 'prerequisites: %s\n' "$*"; }

# Daemons live in sbin, which is not on every user's PATH.
have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ] || [ -x "/sbin/$1" ]
}

# Node: the engines field says >= 20.19 (ESLint, import.meta.resolve without flags).
node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a === 20 && b >= 19) ? "yes" : "no")')
if [ "$node_ok" != yes ]; then
  say "Node.js 20.19 or later is needed; this is $(node --version). See https://nodejs.org/en/download"
  exit 1
fi

# command:package pairs. "Quiet" packages are daemons the stack runs itself: their system
# services must not start (nginx would take port 80, redis 6379). Docker's must.
required="redis-server:redis-server"
wanted=""
case "$profile" in
  test)
    required="$required nginx:nginx wrk:wrk dockerd:docker.io docker-compose:docker-compose debootstrap:debootstrap"
    required="$required htpasswd:apache2-utils docker-registry:docker-registry kubectl:kubernetes-client chromium:chromium"
    required="$required promtool:prometheus git:git redis-sentinel:redis-sentinel"
    ;;
  bench) required="$required nginx:nginx wrk:wrk" ;;
  mutate) required="$required nginx:nginx git:git redis-sentinel:redis-sentinel" ;;
  start) wanted="nginx:nginx redis-sentinel:redis-sentinel" ;;
esac
quiet="redis-server redis-sentinel nginx docker-registry prometheus"

missing=""
for pair in $required $wanted; do
  command=${pair%%:*}
  package=${pair#*:}
  # Compose v2 as a docker plugin will do instead of the standalone docker-compose.
  if [ "$command" = docker-compose ] && docker compose version >/dev/null 2>&1; then continue; fi
  have "$command" || missing="$missing $package"
done
missing=${missing# }

# apt-get quietly; its whole output only when it fails.
apt_install() {
  log=$(mktemp)
  # shellcheck disable=SC2068 # one word per package
  if ! apt-get install -y --no-install-recommends $@ >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    say "apt-get install $* failed"
    exit 1
  fi
  rm -f "$log"
}

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $missing with apt-get (needed by npm $profile)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    blocked="" free=""
    for package in $missing; do
      case " $quiet " in
        *" $package "*) blocked="$blocked $package" ;;
        *) free="$free $package" ;;
      esac
    done
    if [ -n "$blocked" ]; then
      policy=/usr/sbin/policy-rc.d
      if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
      fi
      say "(their system services are left stopped:$blocked)"
      apt_install $blocked
      rm -f "$policy"
      trap - EXIT
    fi
    [ -z "$free" ] || apt_install $free
    say "installed $missing"
  else
    hint="sudo apt-get install -y $missing"
    for pair in $required; do
      case " $missing " in
        *" ${pair#*:} "*)
          say "${pair#*:} is missing. Install it first:  $hint"
          exit 1
          ;;
      esac
    done
    # Only wanted packages are missing here: a missing required one stopped above.
    case " $missing " in
      *" nginx "*) say "nginx is not installed: npm start will use the http-proxy edge. For nginx:  $hint" ;;
    esac
    case " $missing " in
      *" redis-sentinel "*) say "redis-sentinel is not installed: Redis cannot run with replicas. For it:  $hint" ;;
    esac
  fi
fi

if [ "$engine_check" = yes ] && ! docker info >/dev/null 2>&1; then
  say "Docker is installed but no engine answers. Start it (sudo systemctl start docker, or as root: dockerd &),"
  say "and make sure this user may use it (root, or a member of the docker group)."
  exit 1
fi
exit 0
