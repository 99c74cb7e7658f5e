{
  "targets": [
    {
      "target_name": "cineswarm_engine",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/background.cc",
        "native/session.cc",
        "native/alerts.cc",
        "native/torrent_handle.cc",
        "native/torrent_info.cc",
        "native/create_torrent.cc",
        "native/hash_files.cc",
        "native/one_pass_hash.cc",
        "native/exchange_paths.cc",
        "native/posix_hashing_disk_io.cc",
        "native/super_seeding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "<!@(pkg-config --cflags-only-other libtorrent-rasterbar | tr ' ' '\\n' | sed -n 's/^-D//p')"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wall", "-Wno-deprecated-declarations",
                    "<!@(pkg-config --cflags-only-I libtorrent-rasterbar)"],
      "libraries": ["<!@(pkg-config --libs libtorrent-rasterbar)"]
    }
  ]
}
