#!/bin/sh
# STAND-IN for the agent init script of the seed approach: re-creates the
# behaviour of Coder's Linux bootstrap script (provisionersdk/scripts/
# bootstrap_linux.sh in coder/coder), not its code. The template renders
# ${ACCESS_URL}, ${ARCH} and ${AUTH_TYPE} in (bench/workspace.py does).
#   - a fresh temporary folder on every start: nothing is kept, so every
#     boot and every restart downloads the whole agent again;
#   - curl (then wget, then busybox wget), retried forever 30 s apart;
#   - any failure before the agent runs sleeps a day (to keep the logs).
# One difference: the agent is started through run-agent (next to this
# file), which stands in for the real agent's startup-script runner.
set -eu
on_exit() {
	echo "agent init script failed: sleeping for a day so its logs can be read"
	sleep 86400
}
trap on_exit EXIT
folder=$(mktemp -d -t coder.XXXXXX)
cd "$folder"
url="${ACCESS_URL}bin/coder-linux-${ARCH}"
until
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --compressed "$url" -o coder
	elif command -v wget >/dev/null 2>&1; then
		wget -q "$url" -O coder
	elif command -v busybox >/dev/null 2>&1; then
		busybox wget -q "$url" -O coder
	else
		echo "no download tool: install curl, wget or busybox" >&2
		exit 127
	fi
do
	echo "could not download the agent from $url; trying again in 30 s"
	sleep 30
done
chmod +x coder
export CODER_AGENT_AUTH="${AUTH_TYPE}" CODER_AGENT_URL="${ACCESS_URL}"
trap - EXIT
exec /opt/coder/run-agent ./coder agent
