#!/bin/sh
# The system packages the stack needs, checked before `npm start` and `npm test` (npm runs this as
# their pre-script) and by .ci/run. Where something is missing and we are root with apt-get, it is
# installed (announced first); elsewhere we stop with the command that installs it.
#
#   sh scripts/prerequisites.sh start   redis-server required; nginx wanted (else the http-proxy edge)
#   sh scripts/prerequisites.sh test    redis-server and nginx required
set -eu

profile=${1:-test}
case "$profile" in
  start | test) ;;
  *) echo "usage: $0 start|test" >&2; exit 2 ;;
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

required="redis-server"
wanted=""
if [ "$profile" = test ]; then required="$required nginx"; else wanted="nginx"; fi

missing=""
for pkg in $required $wanted; do
  have "$pkg" || missing="$missing $pkg"
done
missing=${missing# }
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing $missing with apt-get (needed by npm $profile; their system services are not started)"
  # Keep the packages' own services (nginx on :80, redis on :6379) from starting: the stack runs its own.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  for pkg in $missing; do
    have "$pkg" || { say "apt-get finished but $pkg is still missing"; exit 1; }
  done
  say "installed $missing"
  exit 0
fi

hint="sudo apt-get install -y $missing"
for pkg in $required; do
  case " $missing " in
    *" $pkg "*)
      say "$pkg is missing. Install it first:  $hint"
      exit 1
      ;;
  esac
done
say "nginx is not installed: npm start will use the http-proxy edge. For nginx:  $hint"
