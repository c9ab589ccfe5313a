#!/bin/bash
# build.sh DIR - a copy of the reference harness (../../../shared/oracle) in DIR,
# with the raw ioctl op of raw-ioctl.patch and the batch mode of batch.patch,
# set up to run: DIR/run.sh FILE.gem, DIR/run.sh --batch FILE...
#
# The shared oracle is read-only; scenarios that use `ioctl FD REQUEST hex:ARG`
# (conformance/x_ioctl_table.gem) are recorded with this copy:
#   conformance/harness/build.sh /tmp/oracle-raw
#   /tmp/oracle-raw/run.sh conformance/x_ioctl_table.gem > conformance/x_ioctl_table.expected
# `gemulator difftest --batch-oracle DIR/run.sh` runs many scenarios per VM boot
# with the batch mode (each on a freshly loaded vgem).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${GEMULATOR_SHARED:-$HERE/../../../shared}
DIR=${1:?usage: build.sh DIR}
mkdir -p "$DIR"
cp -a "$SHARED/oracle/." "$DIR/"
chmod -R u+w "$DIR"
(cd "$DIR" && patch -p1 --forward < "$HERE/raw-ioctl.patch" && patch -p1 --forward < "$HERE/batch.patch")
"$DIR/setup.sh"
