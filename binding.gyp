{
  # The from-source build npm runs on a user's machine when no prebuilt binary loads
  # (scripts/install.js). CMakeLists.txt builds the same sources with the same flags (the
  # prebuilds, the arm64 cross build, the test builds); test/distribution.test.ts keeps the two
  # lists equal. node-addon-api's headers: the copy packed into the tarball
  # (native/node-addon-api/, scripts/pack.js) or, in a checkout, the devDependency.
  "variables": {
    "libcap_cflags%": "<!(pkg-config --cflags libcap 2>/dev/null || true)",
    "libcap_libs%": "<!(pkg-config --libs libcap 2>/dev/null || echo -lcap)",
    "addon_api_dir%": "<!(node -p \"require('fs').existsSync('native/node-addon-api/napi.h') ? 'native/node-addon-api' : require('node-addon-api').include_dir\")"
  },
  "target_defaults": {
    "sources": [
      "native/binding.cc",
      "native/broadcast.cc",
      "native/caps.cc",
      "native/capset.cc",
      "native/error.cc",
      "native/debug_signal.cc",
      "native/drop.cc",
      "native/exec.cc",
      "native/fatal.cc",
      "native/faults.cc",
      "native/filecaps.cc",
      "native/identity.cc",
      "native/listen.cc",
      "native/platform.cc",
      "native/probes.cc",
      "native/session.cc",
      "native/status.cc",
      "native/thread_ops.cc"
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
