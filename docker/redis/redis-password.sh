# Sourced by the start scripts: the password every Redis process of the stack requires, and the
# files it is shared through.
#   - REDIS_PASSWORD when it is set (and recorded in REDIS_PASSWORD_FILE for the api, if writable);
#   - else the one already in REDIS_PASSWORD_FILE (a mounted secret, or generated earlier);
#   - else a new random one, written there at the first start.
# Several members of a replicated Redis start at once and share the file: every write is a rename
# (a reader never sees half a password), and a generated password is linked into place, so the
# first member to do it wins and every other one reads the winner's.

password_file=${REDIS_PASSWORD_FILE:-/run/redis-auth/password}
password_dir=$(dirname "$password_file")

# Writes $2 into $1 through a temporary file and a rename, readable by the api (its own user).
write_shared() {
  tmp=$(mktemp "$(dirname "$1")/.write.XXXXXX")
  printf '%s' "$2" >"$tmp" && chmod 644 "$tmp" && mv -f "$tmp" "$1"
}

# Sets $password, or exits naming what is missing.
resolve_password() {
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    password=$REDIS_PASSWORD
    if [ -w "$password_dir" ]; then write_shared "$password_file" "$password"; fi
  elif [ -s "$password_file" ]; then
    password=$(cat "$password_file")
  elif [ -w "$password_dir" ]; then
    tmp=$(mktemp "$password_dir/.password.XXXXXX")
    tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 >"$tmp"
    chmod 644 "$tmp"
    if ln "$tmp" "$password_file" 2>/dev/null; then echo "$0: generated a password in $password_file" >&2; fi
    rm -f "$tmp"
    password=$(cat "$password_file")
  else
    echo "$0: no password: set REDIS_PASSWORD or mount one at $password_file" >&2
    exit 1
  fi
  unset REDIS_PASSWORD
}

# A value as Redis's configuration parser reads it: between double quotes, backslashes and quotes escaped.
config_quoted() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')"
}

# The Redis exporter (compose profile observability) reads a JSON map of address to password:
# one entry per address in REDIS_EXPORTER_ADDR (space-separated).
write_exporter_passwords() {
  [ -n "${REDIS_EXPORTER_ADDR:-}" ] && [ -w "$password_dir" ] || return 0
  json=$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')
  entries=''
  for address in $REDIS_EXPORTER_ADDR; do
    entries="$entries${entries:+, }\"$address\": \"$json\""
  done
  write_shared "$password_dir/exporter-passwords.json" "{$entries}
"
}
