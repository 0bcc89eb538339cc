# A container that builds privdrop and runs its tests as root (the privilege-drop tests need
# root plus CAP_SETPCAP and CAP_SYS_CHROOT, which Docker's default set includes).
#   docker build -t privdrop .
#   docker run --rm privdrop                 # npm test
#   docker run --rm -p 80:80 privdrop npm run demo
FROM node:20-bookworm
WORKDIR /privdrop
COPY package.json package-lock.json ./
COPY binding.gyp CMakeLists.txt tsconfig.json tsconfig.build.json jest.config.js ./
COPY native ./native
COPY lib ./lib
COPY bin ./bin
COPY scripts ./scripts
COPY test ./test
COPY README.md ./
RUN bash scripts/setup.sh
CMD ["npm", "test"]
