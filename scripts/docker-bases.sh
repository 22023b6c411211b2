#!/usr/bin/env bash
# npm run docker:bases: local stand-ins for the three official base images, for a machine with a
# Docker engine but no Docker Hub (air-gapped CI, a registry outage, this project's own CI).
#
# Each is a Debian root file system made by debootstrap from this machine's Debian mirror, plus:
#   node            Node.js's official binary and npm, from the npm registry (as the official image has them)
#   nginx           Debian's nginx, and wget for the health check (the official alpine image has busybox's)
#   redis           Debian's redis-server, redis-sentinel and redis-cli (one image runs a single Redis,
#                   or the data nodes and Sentinels of a replicated one)
#   prometheus      Debian's prometheus (and wget, as the official image has busybox's), for the
#                   compose profile `observability`, as are the next two
#   nginx-exporter  Debian's prometheus-nginx-exporter, at the official image's binary path
#   redis-exporter  Debian's prometheus-redis-exporter, at the official image's binary path
# They are tagged under local names, never the official ones, and the script prints the lines a
# shell evaluates to hand them to the builds and docker-compose.yml:
#
#   export NODE_IMAGE=three-tier-local/node:24.21.0-bookworm
#   export NGINX_IMAGE=three-tier-local/nginx:bookworm
#   export REDIS_IMAGE=three-tier-local/redis:bookworm
#   export PROMETHEUS_IMAGE=three-tier-local/prometheus:bookworm (and NGINX_EXPORTER_IMAGE, REDIS_EXPORTER_IMAGE)
#
# Progress goes to stderr, so `eval "$(npm run --silent docker:bases)"` exports them. When
# NODE_EXTRA_CA_CERTS names a CA (a TLS-intercepting proxy), it is copied to docker/certs/extra-ca.pem
# for the api image's npm ci, and said. Images that exist are kept; FORCE=1 rebuilds. Needs root,
# debootstrap and a running Docker engine.
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.21.0}
NPM_VERSION=${NPM_VERSION:-11.19.1}
SUITE=${SUITE:-bookworm}

node_image="three-tier-local/node:${NODE_VERSION}-${SUITE}"
nginx_image="three-tier-local/nginx:${SUITE}"
redis_image="three-tier-local/redis:${SUITE}"
prometheus_image="three-tier-local/prometheus:${SUITE}"
nginx_exporter_image="three-tier-local/nginx-exporter:${SUITE}"
redis_exporter_image="three-tier-local/redis-exporter:${SUITE}"

say() { printf 'docker:bases: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

print_images() {
  printf 'export NODE_IMAGE=%s\nexport NGINX_IMAGE=%s\nexport REDIS_IMAGE=%s\n' "$node_image" "$nginx_image" "$redis_image"
  printf 'export PROMETHEUS_IMAGE=%s\nexport NGINX_EXPORTER_IMAGE=%s\nexport REDIS_EXPORTER_IMAGE=%s\n' \
    "$prometheus_image" "$nginx_exporter_image" "$redis_exporter_image"
}

# The api image runs npm ci: behind a TLS-intercepting proxy it needs the CA this machine trusts.
share_ca() {
  local source=${NODE_EXTRA_CA_CERTS:-} target
  target="$(dirname "$0")/../docker/certs/extra-ca.pem"
  [ -n "$source" ] && [ -s "$source" ] || return 0
  cmp -s "$source" "$target" 2>/dev/null && return 0
  cp "$source" "$target"
  say "copied NODE_EXTRA_CA_CERTS ($source) to docker/certs/extra-ca.pem for the api image's npm ci"
}

exists() { docker image inspect "$1" >/dev/null 2>&1; }

# A stand-in built before the replicated Redis has no redis-sentinel: it is rebuilt, never kept.
redis_complete() {
  exists "$redis_image" && docker run --rm --entrypoint sh "$redis_image" -c 'command -v redis-sentinel' >/dev/null 2>&1
}

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap and chroot): run it with sudo"
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || fail "debootstrap is missing: apt-get install -y debootstrap"
docker info >/dev/null 2>&1 || fail "no Docker engine answers: start dockerd first"

all_exist() {
  local image
  for image in "$node_image" "$nginx_image" "$redis_image" "$prometheus_image" "$nginx_exporter_image" "$redis_exporter_image"; do
    exists "$image" || return 1
  done
  redis_complete
}

if [ "${FORCE:-0}" != 1 ] && all_exist; then
  say "the local base images exist already (FORCE=1 rebuilds them)"
  share_ca
  print_images
  exit 0
fi

mirror=$(bash "$(dirname "$0")/debian-mirror.sh")

case "$(uname -m)" in
  x86_64) node_arch=x64 ;;
  aarch64) node_arch=arm64 ;;
  *) fail "no Node.js binary package for $(uname -m)" ;;
esac

work=$(mktemp -d /var/tmp/three-tier-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

say "debootstrap $SUITE from $mirror"
debootstrap --variant=minbase "$SUITE" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
# No service may start inside the image build.
printf '#!/bin/sh\nexit 101\n' >"$work/base/usr/sbin/policy-rc.d"
chmod +x "$work/base/usr/sbin/policy-rc.d"

in_root() {
  local root=$1
  shift
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

# A copy of the base with packages added, cleaned and imported as an image.
build_image() {
  local name=$1 tag=$2 packages=$3
  shift 3
  local root="$work/$name"
  say "building $tag"
  cp -a "$work/base" "$root"
  if [ -n "$packages" ]; then
    # shellcheck disable=SC2086 # one word per package
    in_root "$root" sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages" \
      >"$work/apt-$name.log" 2>&1 || { tail -n 20 "$work/apt-$name.log" >&2; fail "apt-get failed for $tag"; }
  fi
  "customize_$name" "$root"
  in_root "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root/usr/sbin/policy-rc.d"
  tar -C "$root" -c . | docker import "$@" \
    --change "LABEL org.opencontainers.image.description=\"local stand-in built by npm run docker:bases\"" \
    - "$tag" >/dev/null
  rm -rf "$root"
}

customize_node() {
  local root=$1
  (cd "$work" && npm pack --silent "node-linux-${node_arch}@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
  tar -xzf "$work/node-linux-${node_arch}-${NODE_VERSION}.tgz" -C "$work" package/bin/node
  install -m 755 "$work/package/bin/node" "$root/usr/local/bin/node"
  rm -rf "$work/package"
  mkdir -p "$root/usr/local/lib/node_modules"
  tar -xzf "$work/npm-${NPM_VERSION}.tgz" -C "$work"
  mv "$work/package" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # As in the official image: user node, uid 1000.
  in_root "$root" groupadd --gid 1000 node
  in_root "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  in_root "$root" node --version >/dev/null
}

customize_nginx() {
  local root=$1
  # As in the official image: user nginx, uid 101.
  in_root "$root" sh -c 'getent group 101 >/dev/null || groupadd --system --gid 101 nginx'
  in_root "$root" sh -c 'getent passwd 101 >/dev/null || useradd --system --uid 101 --gid 101 --no-create-home --shell /usr/sbin/nologin nginx'
  in_root "$root" nginx -v 2>/dev/null
}

customize_redis() {
  local root=$1
  # As in the official image: user redis, uid 999, and /data.
  in_root "$root" sh -c 'getent group 999 >/dev/null || groupadd --system --gid 999 redis-data'
  in_root "$root" sh -c 'getent passwd 999 >/dev/null || useradd --system --uid 999 --gid 999 --no-create-home --shell /usr/sbin/nologin redis-data'
  install -d -o 999 -g 999 "$root/data"
  in_root "$root" redis-server --version >/dev/null
  in_root "$root" redis-sentinel --version >/dev/null
}

customize_prometheus() {
  local root=$1
  # As in the official image: /prometheus for the data, owned by nobody; the binary at /bin/prometheus.
  install -d -o 65534 -g 65534 "$root/prometheus"
  [ -x "$root/bin/prometheus" ] || ln -s /usr/bin/prometheus "$root/bin/prometheus"
  in_root "$root" /bin/prometheus --version >/dev/null 2>&1
}

customize_nginx_exporter() {
  local root=$1
  ln -s prometheus-nginx-exporter "$root/usr/bin/nginx-prometheus-exporter"
  in_root "$root" /usr/bin/nginx-prometheus-exporter --version >/dev/null 2>&1
}

customize_redis_exporter() {
  local root=$1
  ln -s /usr/bin/prometheus-redis-exporter "$root/redis_exporter"
  in_root "$root" /redis_exporter --version >/dev/null 2>&1
}

# Only the images that are missing (or all, with FORCE=1).
wanted() { [ "${FORCE:-0}" = 1 ] || ! exists "$1"; }

path_env="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
wanted "$node_image" && build_image node "$node_image" "" --change "$path_env" --change 'CMD ["node"]'
wanted "$nginx_image" && build_image nginx "$nginx_image" "nginx wget" --change "$path_env" --change 'CMD ["nginx", "-g", "daemon off;"]'
{ wanted "$redis_image" || ! redis_complete; } && build_image redis "$redis_image" "redis-server redis-sentinel" --change "$path_env" --change 'WORKDIR /data' \
  --change 'CMD ["redis-server"]'
wanted "$prometheus_image" && build_image prometheus "$prometheus_image" "prometheus wget" --change "$path_env" \
  --change 'ENTRYPOINT ["/bin/prometheus"]'
wanted "$nginx_exporter_image" && build_image nginx_exporter "$nginx_exporter_image" "prometheus-nginx-exporter" \
  --change "$path_env" --change 'ENTRYPOINT ["/usr/bin/nginx-prometheus-exporter"]'
wanted "$redis_exporter_image" && build_image redis_exporter "$redis_exporter_image" "prometheus-redis-exporter" \
  --change "$path_env" --change 'ENTRYPOINT ["/redis_exporter"]'

say "done"
share_ca
print_images
