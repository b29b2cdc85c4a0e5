#!/bin/sh
# Installs what `npm run bench` drives besides Conveyor: librdkafka's kcat, the peers Redis and
# NATS (Debian packages), and the npm dev dependencies (the nats.js client). Not run in CI.
set -eu
apt-get update
apt-get install -y kcat redis-server nats-server
# The Debian packages start their own services; the benchmark starts its own on free loopback
# ports and stops them by pid, so the packaged ones are not needed.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server nats-server 2>/dev/null || true; fi
npm install
