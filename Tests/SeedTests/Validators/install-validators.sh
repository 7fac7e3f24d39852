#!/bin/sh
# Installs what the SeedTests validate with (Debian 12, as root): cloud-init
# for `cloud-init schema`, and the Python validators from PyPI. Without them
# those tests skip, unless CODER_VM_SEED_REQUIRE_VALIDATORS=1 makes them fail.
set -eu
here=$(dirname "$0")
if ! command -v cloud-init >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cloud-init
fi
python3 -m pip install --quiet -r "$here/requirements.txt"
