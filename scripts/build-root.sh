#!/usr/bin/env bash
# The build root for the release binaries: Debian 11 (bullseye: glibc 2.31, gcc 10) made with
# debootstrap, with g++, make, cmake, libcap-dev, and for arm64 g++-aarch64-linux-gnu and
# libcap-dev:arm64 (dpkg multiarch). Building there instead of on the Debian 12 host keeps the
# binaries' glibc minimum at bullseye's (the static libstdc++/libgcc of a newer gcc reference
# symbols of a newer glibc). Made once, kept in PRIVDROP_CACHE (default /var/cache/privdrop-ci);
# prints its path. As root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${PRIVDROP_CACHE:-/var/cache/privdrop-ci}
root="$cache/debian-bullseye-build"
if [ -f "$root/.privdrop-complete" ]; then
  echo "$root"
  exit 0
fi
command -v debootstrap >/dev/null || bash "$repo/scripts/prebuild-deps.sh" >&2
mkdir -p "$cache"
log="$cache/build-root.log"
if [ ! -f "$root/.privdrop-base" ]; then
  rm -rf "$root"
  echo "build-root: debootstrap bullseye with g++, cmake, libcap-dev (once; log: $log)" >&2
  debootstrap --variant=minbase --include=g++,make,cmake,libcap-dev bullseye "$root" http://deb.debian.org/debian >"$log" 2>&1 ||
    { tail -20 "$log" >&2; exit 1; }
  touch "$root/.privdrop-base"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "build-root: adding arm64 (g++-aarch64-linux-gnu, libcap-dev:arm64)" >&2
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c '
  dpkg --add-architecture arm64 &&
  apt-get update -qq &&
  apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu libcap-dev:arm64 libc6-dev:arm64 &&
  apt-get clean' >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
touch "$root/.privdrop-complete"
echo "$root"
