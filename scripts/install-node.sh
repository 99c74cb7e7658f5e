#!/usr/bin/env bash
# Puts the pinned Node.js LTS (and a pinned npm) into a project-local folder, fetched from the npm
# registry with the ordinary npm client: the official build is published there as the package
# node-linux-<arch>, headers included, so node-gyp builds the addon against it with no download.
# Usage: install-node.sh NODE_VERSION NPM_VERSION DEST
# Debian's nodejs/npm serve only as the bootstrap when the machine has no npm at all.
set -euo pipefail
node_version=$1 npm_version=$2 dest=$3

case "$(uname -m)" in
	x86_64) arch=x64 ;;
	aarch64) arch=arm64 ;;
	*) echo "install-node: no Node.js $node_version build for $(uname -m)" >&2; exit 1 ;;
esac

if ! command -v npm >/dev/null; then
	echo "install-node: no npm on this machine; installing Debian's nodejs and npm to fetch Node.js $node_version"
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi

work=$(mktemp -d "$(dirname "$dest")/.node-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "install-node: fetching node-linux-$arch@$node_version and npm@$npm_version into $dest"
(cd "$work" && npm pack --silent "node-linux-$arch@$node_version" "npm@$npm_version" >/dev/null)
mkdir "$work/node" "$work/npm"
tar -xzf "$work"/node-linux-"$arch"-*.tgz -C "$work/node" --strip-components=1
tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1

got=$("$work/node/bin/node" --version)
[ "$got" = "v$node_version" ] || { echo "install-node: the package holds Node.js $got, not v$node_version" >&2; exit 1; }
[ -f "$work/node/include/node/node_api.h" ] || { echo "install-node: the package has no Node.js headers" >&2; exit 1; }

# npm goes where a Node.js tarball keeps it, with the usual command links beside node.
mkdir -p "$work/node/lib/node_modules"
mv "$work/npm" "$work/node/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/node/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/node/bin/npx"
rm -rf "$dest"
mv "$work/node" "$dest"
echo "install-node: $("$dest/bin/node" --version) with npm $("$dest/bin/npm" --version) in $dest"
