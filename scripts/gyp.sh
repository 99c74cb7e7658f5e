#!/bin/sh
# node-gyp against the headers of the Node.js that runs it (under make: the pinned runtime in
# .runtime/, whose package ships include/node), so building the addon downloads nothing.
nodedir=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
[ -f "$nodedir/include/node/node_api.h" ] || { echo "gyp.sh: no Node.js headers under $nodedir/include/node; run the build through make, which fetches the pinned runtime" >&2; exit 1; }
# npm hands its own nodedir setting (a user ~/.npmrc may name the system's headers) to node-gyp
# through the environment, where it would win over the flag: both name ours.
export npm_config_nodedir="$nodedir"
exec node-gyp "$@" --nodedir="$nodedir"
