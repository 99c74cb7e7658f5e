#!/bin/sh
# Lays a cineswarm firmware bundle onto a directory root: a fresh appliance, or an image being
# prepared under a directory. Needs only sh, openssl and tar: the Ed25519 signature is checked
# with openssl before anything in the bundle runs, then the bundle's own updater (on the Node.js
# the bundle carries) checks every file hash and installs the slot; the system account,
# directories and units follow.
set -eu

usage() {
	echo "usage: install-image.sh BUNDLE PUBLIC_KEY [ROOT]" >&2
	echo "  BUNDLE      cineswarm-<version>.tar.gz (its signature BUNDLE.sig beside it)" >&2
	echo "  PUBLIC_KEY  the Ed25519 public key (PEM) the bundle must be signed with" >&2
	echo "  ROOT        directory to install under (default /: also enables and starts the agent)" >&2
	exit 2
}
[ $# -ge 2 ] && [ $# -le 3 ] || usage
bundle=$1
key=$2
root=${3:-/}
for f in "$bundle" "$bundle.sig" "$key"; do
	[ -r "$f" ] || { echo "install-image: cannot read $f" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! base64 -d <"$bundle.sig" >"$tmp/sig.bin" 2>/dev/null ||
	! openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$bundle" -sigfile "$tmp/sig.bin" >/dev/null 2>&1; then
	echo "install-image: $bundle is not signed by $key, or it is damaged: nothing installed" >&2
	exit 1
fi
mkdir "$tmp/release" "$root" 2>/dev/null || true
tar -xzf "$bundle" -C "$tmp/release"
# A bundle built without its own runtime (make image always ships one) needs the system's.
node="$tmp/release/runtime/bin/node"
if [ ! -x "$node" ]; then
	node=$(command -v node) || { echo "install-image: this bundle carries no Node.js and the system has none" >&2; exit 1; }
fi
"$node" "$tmp/release/bin/cineswarm.js" update "$bundle" --root "$root" --public-key "$key" --no-restart

if [ "$root" = / ]; then
	systemd-sysusers cineswarm.conf
	systemd-tmpfiles --create cineswarm.conf
	systemctl daemon-reload
	systemctl enable --now cineswarm-agent.service cineswarm-update.path cineswarm-update-check.service
else
	systemd-sysusers --root="$root" cineswarm.conf
	systemd-tmpfiles --create --root="$root" cineswarm.conf
	systemctl --root="$root" enable cineswarm-agent.service cineswarm-update.path cineswarm-update-check.service 2>/dev/null
fi
echo "install-image: cineswarm installed under $root"
