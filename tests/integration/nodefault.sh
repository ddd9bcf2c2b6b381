# Sourced by integration tests (needs $AI_BIN and $tmp): runs the agentinfer
# program as if no default model existed.  A copy of the program outside the
# checkout, run from an empty folder with $AGENTINFER_MODEL unset, finds no
# models/default.gguf (see cli_default_model), so a missing -m is an error.
nodefault() { mkdir -p "$tmp/nd/bin" && cp "$AI_BIN" "$tmp/nd/bin/" && (cd "$tmp/nd" && AGENTINFER_MODEL= bin/agentinfer "$@"); }
