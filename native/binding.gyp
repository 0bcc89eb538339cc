{
  # The from-source build (scripts/build-from-source.js runs node-gyp here, in native/) for a
  # system where the prebuilt binary does not load. It is not at the package's top level on
  # purpose: npm, pnpm and yarn treat a top-level binding.gyp as an install script
  # (`node-gyp rebuild`) and ask about it. CMakeLists.txt builds the same sources with the same
  # flags (the prebuilds, the arm64 cross build, the test builds); test/addon/distribution.test.ts
  # keeps the two lists equal. node-addon-api's headers: the copy packed into the tarball
  # (native/node-addon-api/, scripts/pack.js) or, in a checkout, the devDependency.
  "variables": {
    "libcap_cflags%": "<!(pkg-config --cflags libcap 2>/dev/null || true)",
    "libcap_libs%": "<!(pkg-config --libs libcap 2>/dev/null || echo -lcap)",
    "addon_api_dir%": "<!(node -p \"require('fs').existsSync('node-addon-api/napi.h') ? 'node-addon-api' : require('node-addon-api').include_dir\")"
  },
  "target_defaults": {
    "sources": [
      "binding.cc",
      "broadcast.cc",
      "caps.cc",
      "capset.cc",
      "error.cc",
      "debug_signal.cc",
      "drop.cc",
      "exec.cc",
      "fatal.cc",
      "faults.cc",
      "filecaps.cc",
      "identity.cc",
      "listen.cc",
      "platform.cc",
      "probes.cc",
      "session.cc",
      "status.cc",
      "task_tail.cc",
      "thread_ops.cc"
    ],
    "include_dirs": ["<(addon_api_dir)"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags": ["-Wall", "-Wextra", "-O2", "<@(libcap_cflags)"],
    "cflags_cc": ["-Wall", "-Wextra", "-O2", "-std=c++17", "<@(libcap_cflags)"],
    "libraries": ["<@(libcap_libs)"],
    "defines": ["_GNU_SOURCE", "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "privdrop"
    }
  ]
}
