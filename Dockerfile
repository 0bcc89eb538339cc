# privdrop in a container, the way an application's image has it: privdrop is installed like any
# other package and its prebuilt binary comes in the package, so no stage of the runtime image
# has, or needs, a compiler, python3 or the libcap headers.
#
#   npm run prebuild && npm pack                         # privdrop-<version>.tgz in this directory:
#                                                        # it stands in for the registry's package
#   docker build -t privdrop-example .                   # the runtime image (the last stage)
#   docker run --rm -p 80:80 privdrop-example            # the express example: starts as root, drops
#                                                        # to www-data on every thread, binds port 80
#   docker build --target test -t privdrop-test .        # the checkout compiled, plus the test suite
#   docker run --rm --privileged privdrop-test           # npm test, see below for why --privileged
#
# scripts/build-image.sh does all of it without a Docker daemon (buildah, local base images) and
# runs the runtime image's command under chroot with Docker's default capabilities.
#
# Stages:
#   install  node's slim image: the application (examples/express/server.js) installs privdrop
#            (the packed tarball; from the registry, `npm install privdrop`) and express. Nothing
#            is compiled: the step checks that no compiler is there and that no build/ appeared.
#   runtime  the same slim image with /app copied in (no npm cache).
#   test     the full node image, a C++ toolchain and the libcap headers: the checkout, built
#            (cmake-js) and tested. Only this stage compiles, and only because it tests the
#            sources.
#
# Capabilities. The runtime image needs Docker's DEFAULT set, nothing added: the server starts as
# root holding, among others, cap_setuid, cap_setgid and cap_setpcap (to become www-data and trim
# the bounding set) and cap_net_bind_service (kept for the bind of port 80, then shed). `--cap-drop ALL --cap-add SETUID
# --cap-add SETGID --cap-add SETPCAP --cap-add NET_BIND_SERVICE` is the least it works with (see
# examples/kubernetes/pod.yaml); with `--cap-drop ALL` alone it refuses and exits 1.
# The TEST image is different: the suite needs more than the default set (cap_dac_read_search for
# two tests, cap_sys_ptrace for gdb attaching to dropped children, cap_sys_admin to create network
# namespaces for the example servers), hence --privileged. Without root all drop tests skip.
#
# The base images are arguments so that the image can be built from local bases where the Docker
# Hub is unreachable: scripts/build-image.sh does that with buildah and a debootstrap root.
ARG BUILD_IMAGE=node:22-bookworm
ARG RUNTIME_IMAGE=node:22-bookworm-slim

FROM ${RUNTIME_IMAGE} AS install
WORKDIR /app
COPY examples/express/server.js ./server.js
COPY privdrop-*.tgz /tmp/privdrop.tgz
RUN for tool in cc gcc g++ c++ make python3; do \
      if command -v "$tool" >/dev/null; then echo "$tool is in the install image: privdrop must install without it" >&2; exit 1; fi; \
    done \
 && npm init -y >/dev/null \
 && npm install --omit=dev --no-audit --no-fund /tmp/privdrop.tgz express@5.3.0 \
 && test ! -e node_modules/privdrop/build \
 && node -e "require('privdrop').capabilityNames()" \
 && rm /tmp/privdrop.tgz

FROM ${BUILD_IMAGE} AS test
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ make python3 pkg-config libcap-dev \
      cmake libcap2-bin gdb util-linux iproute2 openssl keyutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json CMakeLists.txt tsconfig.json tsconfig.build.json jest.config.js README.md SECURITY.md CHANGELOG.md Dockerfile ./
COPY cmake ./cmake
COPY native ./native
COPY lib ./lib
COPY bin ./bin
COPY scripts ./scripts
COPY docs ./docs
COPY evidence ./evidence
COPY test ./test
COPY examples ./examples
# npm ci: dependencies as locked (nothing is compiled by an install hook: there is none); then
# the addon and its fault-injection twin (cmake-js) and the TypeScript.
RUN npm ci --no-audit --no-fund && npm run build:testing && npm run build:ts \
 && npm ci --prefix examples --ignore-scripts --no-audit --no-fund
CMD ["npm", "test"]

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
COPY --from=install /app /app
ENV NODE_ENV=production PORT=80 PRIVDROP_USER=www-data
EXPOSE 80
# No USER: the server must start as root to drop (it refuses to serve if it cannot).
CMD ["node", "server.js"]
