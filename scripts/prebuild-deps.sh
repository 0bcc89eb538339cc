#!/usr/bin/env bash
# Installs what building the release binaries needs on Debian/Ubuntu x86_64 (run as root):
# CMake, the arm64 cross compiler, libcap for arm64 through dpkg multiarch, qemu-user-static
# (the arm64 smoke test) and debootstrap (the no-compiler install test). Idempotent: it only
# calls apt-get when something is missing. Used by `npm run prebuild` and .ci/run.
set -euo pipefail

if ! command -v apt-get >/dev/null 2>&1; then
  echo "prebuild-deps: needs Debian/Ubuntu (apt-get); install cmake, g++-aarch64-linux-gnu, libcap-dev:arm64, qemu-user-static and debootstrap yourself" >&2
  exit 1
fi
if [ "$(dpkg --print-architecture)" != amd64 ]; then
  echo "prebuild-deps: the release build runs on x86_64 (amd64) and cross-compiles arm64; this is $(dpkg --print-architecture)" >&2
  exit 1
fi

need=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in cmake g++ make pkg-config libcap-dev g++-aarch64-linux-gnu libcap-dev:arm64 libc6:arm64 libstdc++6:arm64 \
         qemu-user-static debootstrap binutils; do
  installed "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "prebuild-deps: missing ${need[*]}; run as root:" >&2
  echo "  sudo bash scripts/prebuild-deps.sh" >&2
  exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
echo "prebuild-deps: installing ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
