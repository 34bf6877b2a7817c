#!/usr/bin/env sh
# Installs the lipflap engine in its own virtual environment and the host plugins for this user.
#   install/install.sh [ENV_DIR]        (default ~/.lipflap/venv)
# Resolve and Nuke run their own Pythons; they never import the engine, they start
# ENV_DIR/bin/lipflap as a separate process (its path is recorded by `lipflap install`).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
env_dir=${1:-"$HOME/.lipflap/venv"}
python3 -m venv "$env_dir"
"$env_dir/bin/pip" install --upgrade pip >/dev/null
"$env_dir/bin/pip" install "$here"
for host in resolve nuke; do
  "$env_dir/bin/lipflap" install "$host" || echo "lipflap: $host plugin not installed (see the message above)"
done
echo "lipflap engine: $env_dir/bin/lipflap"
