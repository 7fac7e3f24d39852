#!/bin/sh
# STAND-IN for the agent startup script the seed template gets from Coder's
# code-server module: re-creates its behaviour, not its code. It installs
# code-server into /tmp/code-server when it is not there (so after every
# reboot, since /tmp is emptied at boot), streaming the release tarball
# through tar (`curl | tar`), with no checksum, then starts it in the
# background, unsupervised. The template renders ${CODE_SERVER_URL} in.
# (The module passes --port 13337; the code-server stand-in ignores --port,
# so the same address is given as --bind-addr.)
set -eu
prefix=/tmp/code-server
if [ ! -x "$prefix/bin/code-server" ]; then
	mkdir -p "$prefix"
	curl -fsSL "${CODE_SERVER_URL}" | tar -xz -C "$prefix" --strip-components=1
fi
"$prefix/bin/code-server" --auth none --bind-addr 127.0.0.1:13337 > /tmp/code-server.log 2>&1 &
