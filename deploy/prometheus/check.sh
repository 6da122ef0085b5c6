#!/usr/bin/env bash
# Checks the Prometheus alert rules and runs their unit tests:
#   promtool check rules  deploy/prometheus/alerts.yml
#   promtool test rules   deploy/prometheus/alerts_test.yml
#   promtool check config deploy/prometheus/prometheus.yml   (the example scrape configuration, loading alerts.yml)
# Installs Debian's prometheus package for promtool if it is missing (needs root and apt). Installing it does
# not leave a Prometheus server running: the package's service is stopped if it was started.
# Exits non-zero if the install, the check or a test fails. Run it from anywhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v promtool >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "check.sh: promtool is missing; run as root to install the prometheus package, or install it" >&2
    exit 1
  fi
  echo "check.sh: installing the prometheus package for promtool"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # Only promtool is wanted; in a container without an init system the service does not start anyway.
  service prometheus stop >/dev/null 2>&1 || true
fi

promtool --version 2>&1 | sed -n 1p
promtool check rules "$here/alerts.yml"
promtool test rules "$here/alerts_test.yml"
promtool check config "$here/prometheus.yml"
