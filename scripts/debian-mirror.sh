#!/usr/bin/env bash
# Prints this machine's Debian mirror, from its apt sources (deb822 or one-line), else deb.debian.org.
# Used where the project fetches Debian packages outside the host's apt (docker:bases, .ci/run).
set -euo pipefail
shopt -s nullglob
sources=(/etc/apt/sources.list.d/*.sources)
lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
mirror=$(
  {
    [ ${#sources[@]} -eq 0 ] || sed -n 's/^URIs:[[:space:]]*//p' "${sources[@]}" | tr ' ' '\n'
    for list in "${lists[@]}"; do
      [ -f "$list" ] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$list"
    done
  } | grep -E '/debian/?$' | grep -v security | head -n 1 || true
)
echo "${mirror:-http://deb.debian.org/debian}"
