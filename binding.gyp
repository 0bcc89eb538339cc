{
  "variables": {
    "build_faults%": "<!(node -p \"process.env.PRIVDROP_BUILD_FAULTS === '1' ? 1 : 0\")",
    "libcap_cflags%": "<!(pkg-config --cflags libcap 2>/dev/null || true)",
    "libcap_libs%": "<!(pkg-config --libs libcap 2>/dev/null || echo -lcap)"
  },
  "target_defaults": {
    "sources": [
      "native/binding.cc",
      "native/broadcast.cc",
      "native/caps.cc",
      "native/error.cc",
      "native/drop.cc",
      "native/exec.cc",
      "native/faults.cc",
      "native/identity.cc",
      "native/platform.cc",
      "native/session.cc"
    ],
    "dependencies": [
      "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
    ],
    "cflags": ["-Wall", "-Wextra", "-O2", "<@(libcap_cflags)"],
    "cflags_cc": ["-Wall", "-Wextra", "-O2", "-std=c++17", "<@(libcap_cflags)"],
    "libraries": ["<@(libcap_libs)"],
    "defines": ["_GNU_SOURCE"]
  },
  "targets": [
    {
      "target_name": "privdrop"
    }
  ],
  "conditions": [
    ["build_faults==1", {
      "targets": [
        {
          "target_name": "privdrop_faults",
          "defines": ["PRIVDROP_FAULT_INJECTION=1"]
        }
      ]
    }]
  ]
}
