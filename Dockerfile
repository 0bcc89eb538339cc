# privdrop in a container: build the addon where there is a compiler, ship it where there is none.
#
#   docker build -t privdrop-example .                   # the runtime image (the last stage)
#   docker run --rm -p 80:80 privdrop-example            # the express example: starts as root, drops
#                                                        # to www-data on every thread, binds port 80
#   docker build --target test -t privdrop-test .        # the build plus the test suite
#   docker run --rm --privileged privdrop-test           # npm test, see below for why --privileged
#
# Stages:
#   build    Debian + node + a C++ toolchain and the libcap headers: `npm ci` compiles the addon and
#            the TypeScript, `npm pack` makes the package a user would install, and /app is an
#            application (examples/express/server.js) that installs that package and express.
#   test     the build stage plus what the tests use (capsh, setcap, gdb, setpriv, openssl, iproute2).
#   runtime  Debian slim + node: /app copied from the build stage, no compiler, no headers.
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
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ make python3 pkg-config libcap-dev \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers that come with node in /usr/local/include/node instead of
# downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json binding.gyp CMakeLists.txt tsconfig.json tsconfig.build.json jest.config.js README.md SECURITY.md ./
COPY native ./native
COPY lib ./lib
COPY bin ./bin
COPY scripts ./scripts
# npm ci: dependencies as locked, the addon compiled by the install hook, the TypeScript by prepare.
RUN npm ci --no-audit --no-fund && npm pack --pack-destination /tmp
# The application: one server file and its package.json, with privdrop installed from the packed
# tarball (compiled here, with the toolchain) and nothing for development.
WORKDIR /app
COPY examples/express/server.js ./server.js
RUN npm init -y >/dev/null \
 && npm install --omit=dev --no-audit --no-fund /tmp/privdrop-*.tgz express@5.3.0 \
 && node -e "require('privdrop').capabilityNames()"

FROM build AS test
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcap2-bin gdb util-linux iproute2 openssl cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Dockerfile ./
COPY test ./test
COPY examples ./examples
RUN npm ci --prefix examples --ignore-scripts --no-audit --no-fund
CMD ["npm", "test"]

FROM ${RUNTIME_IMAGE} AS runtime
# libcap2, the addon's one shared library besides the C and C++ runtimes, is in Debian's base.
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production PORT=80 PRIVDROP_USER=www-data
EXPOSE 80
# No USER: the server must start as root to drop (it refuses to serve if it cannot).
CMD ["node", "server.js"]
