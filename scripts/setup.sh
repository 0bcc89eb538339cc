#!/usr/bin/env bash
# Sets up a development checkout on a fresh machine: system packages (toolchain, cmake (npm
# test builds with cmake-js), python3, pkg-config, libcap headers; capsh/setcap and gdb, which
# the tests use as independent readers and as ways back they must see fail; ip and openssl, with
# which the example tests give each server its own network namespace and a throwaway
# certificate; systemd for systemd-analyze, with which they rate the example units and resolve
# their system call filters), then npm dependencies and the build.
# As root it installs what is missing; otherwise it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing_debian() {
  local pkgs=() p
  for p in g++ make cmake python3 pkg-config libcap-dev libcap2-bin gdb iproute2 openssl keyutils systemd; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
  done
  echo "${pkgs[*]:-}"
}

install_system_packages() {
  local cmd=""
  if command -v apt-get >/dev/null 2>&1; then
    local need; need=$(missing_debian)
    [ -z "$need" ] && return 0
    cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need"
  elif command -v dnf >/dev/null 2>&1; then
    rpm -q gcc-c++ make cmake python3 pkgconf libcap-devel libcap gdb >/dev/null 2>&1 && return 0
    cmd="dnf install -y gcc-c++ make cmake python3 pkgconf libcap-devel libcap gdb"
  elif command -v apk >/dev/null 2>&1; then
    echo "setup: Alpine (musl) is not supported by privdrop; the package loads but every call throws ERR_PRIVDROP_UNSUPPORTED_PLATFORM." >&2
    cmd="apk add g++ make cmake python3 pkgconf libcap-dev"
  else
    echo "setup: no apt-get, dnf or apk here; install a C++ toolchain, python3, pkg-config and the libcap headers yourself." >&2
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing system packages: $cmd"
    sh -c "$cmd"
  else
    echo "setup: system packages are missing. Run as root:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
}

install_system_packages

# Dependencies exactly as locked; this also compiles the TypeScript (prepare hook). The addon is
# compiled by `npm test` (pretest: cmake-js, build:testing) or `npm run build:testing`: the
# package has no install hook.
if [ -f package-lock.json ]; then npm ci; else npm install; fi
# The examples' own dependencies (express, fastify): the example tests run them for real.
npm ci --prefix examples --ignore-scripts --no-audit --no-fund
echo "setup: done"
