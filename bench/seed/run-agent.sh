#!/bin/sh
# STAND-IN for the real Coder agent's startup-script runner (the agent
# stand-in has none): runs the agent, and once it is connected to Coder
# (its debug server's /debug/manifest answers 200, as the real agent gets
# its manifest) runs the template's startup script, as the agent does.
# The agent stays this unit's main process for all that matters here.
"$@" &
agent=$!
until curl -fs -o /dev/null http://127.0.0.1:2113/debug/manifest; do
	kill -0 "$agent" 2>/dev/null || break
	sleep 0.2
done
/opt/coder/startup.sh > /tmp/coder-startup-script.log 2>&1 &
wait "$agent"
