# cineswarm: install, build, test, demo and benchmarks.
# Every target works on a fresh Debian 12 machine as root, with no step done by hand.

SHELL := /bin/bash
.DEFAULT_GOAL := build

# The Node.js runtime every target uses, pinned here and nowhere else: the current LTS, with the
# npm that drives it. scripts/install-node.sh fetches both from the npm registry into .runtime/
# (the machine's npm only serves to fetch them; Debian's nodejs/npm are installed when there is
# none). The appliance image ships this same runtime.
NODE_VERSION := 24.22.3
NPM_VERSION := 11.21.2
RUNTIME_DIR := $(CURDIR)/.runtime/node-v$(NODE_VERSION)
NODE := $(RUNTIME_DIR)/bin/node
# Recipes (and the npm, npx, node-gyp and tests they start) find this node first; scripts/gyp.sh
# builds the addon against its headers.
export PATH := $(RUNTIME_DIR)/bin:$(PATH)

# Debian packages: the build toolchain and libtorrent, plus every real third-party
# component the tests talk to (BitTorrent clients, tracker, SNMP, browser).
APT_PACKAGES := build-essential python3 pkg-config libtorrent-rasterbar-dev libssl-dev \
	python3-libtorrent aria2 transmission-cli qbittorrent-nox opentracker \
	snmpd snmp smitools chromium openssl iproute2 systemd ca-certificates xmlsec1 \
	ceph-mon ceph-osd radosgw redis-server
# snmptrapd: the SNMP notification test receives the agent's alarm traps with it.
APT_PACKAGES += snmptrapd

.PHONY: deps apt node-deps runtime print-node build test demo bench bench-repeat image clean

runtime: $(NODE)

$(NODE): scripts/install-node.sh
	@mkdir -p $(dir $(RUNTIME_DIR))
	scripts/install-node.sh $(NODE_VERSION) $(NPM_VERSION) $(RUNTIME_DIR)
	@touch $@

# One line: the runtime the targets use, e.g. "/path/.runtime/node-v24.22.3/bin/node v24.22.3".
print-node: $(NODE)
	@echo "$(NODE) $$($(NODE) --version)"

# apt-get only when something is missing, so repeated runs stay fast.
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "Debian packages: all present"; else \
	  echo "Installing Debian packages:" $$missing; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	fi

# Rebuilt when the runtime changes: the addon and any native dependency follow the Node.js ABI.
node_modules/.installed: package.json package-lock.json $(NODE)
	npm ci
	@touch $@

node-deps: $(NODE) node_modules/.installed

deps: apt node-deps

build: deps
	@# a build/ configured for another Node.js is configured again
	@grep -qs 'nodedir.*$(RUNTIME_DIR)' build/config.gypi || rm -rf build
	npm run --silent build:native
	npx tsc -p tsconfig.build.json
	# the agent's status page is static files beside the compiled web module
	mkdir -p dist/agent/web && cp -r src/agent/web/public dist/agent/web/
	# the look, figures and icon both web pages share, and the server's distributor console
	mkdir -p dist/util dist/server dist/protocol && cp -r src/util/web-assets dist/util/ && cp -r src/server/console-public dist/server/ && cp -r src/protocol/web-assets dist/protocol/

test: build
	npx tsc -p tsconfig.json
	npm run --silent check:layers
	node test/run.mjs

demo: build
	node --import=tsx test/demo.ts

bench: build
	node --import=tsx bench/run.ts

# The chosen benches RUNS times with min/median/max per figure, e.g. make bench-repeat RUNS=3 ONLY="swarm-eff ingest"
bench-repeat: build
	RUNS="$(RUNS)" ONLY="$(ONLY)" node --import=tsx bench/repeat.ts

clean:
	rm -rf build dist node_modules .runtime

# Firmware image: dist/image/cineswarm-<version>.tar.gz plus its detached Ed25519 signature (.sig).
# The development key pair is made in .keys/ on first use (git-ignored, never committed).
# IMAGE_VERSION=1.2.3 overrides the version from package.json.
# MIB_PEN=<number> puts the vendor's IANA Private Enterprise Number into the image's CINESWARM-MIB
# and snmpd drop-in; without it the MIB keeps its placeholder 0 (IANA's reserved entry).
IMAGE_VERSION ?= $(shell node -p 'require("./package.json").version')
MIB_PEN ?=
image: build
	@test -f .keys/firmware-ed25519.pem || node dist/cli/main.js firmware keygen .keys
	@test -n "$(MIB_PEN)" || echo "warning: MIB_PEN not set: the image's MIB carries the placeholder enterprise number 0"
	node dist/cli/main.js firmware build --key .keys/firmware-ed25519.pem --version $(IMAGE_VERSION) --out dist/image --runtime $(RUNTIME_DIR) $(if $(MIB_PEN),--mib-pen $(MIB_PEN))
