#!/usr/bin/env bash
# One task of a farm array job: render job number INDEX of a lipflap job list (.lipflap).
#
#   N=$(python3 -c 'import json,sys; print(sum(1 for j in json.load(open(sys.argv[1]))["jobs"] if j["job"]))' ep101.lipflap)
#   sbatch --array=0-$((N-1)) --cpus-per-task=4 --wrap "bash farm_array.sh /san/ep101/ep101.lipflap"
#   # ...when the array is done, gather: lipflap conform /san/ep101/ep101.lipflap -o /san/ep101/renders
#
# INDEX is TASK_INDEX, else SLURM_ARRAY_TASK_ID (0-based). A job whose render already exists is
# skipped, so the array can be resubmitted after failures. LIPFLAP_RUN is the engine command
# (default `lipflap run`), PYTHON the interpreter that reads the job list (default python3).
set -euo pipefail
joblist="$1"
index="${TASK_INDEX:-${SLURM_ARRAY_TASK_ID:?set TASK_INDEX or run as an array task}}"
PYTHON="${PYTHON:-python3}"
LIPFLAP_RUN="${LIPFLAP_RUN:-lipflap run}"
jobs_dir="$(dirname "$joblist")/jobs"
mkdir -p "$jobs_dir"

job_file="$("$PYTHON" - "$joblist" "$index" "$jobs_dir" <<'PY'
import json, os, sys
joblist, index, jobs_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runnable = [j for j in json.load(open(joblist, encoding="utf-8"))["jobs"] if j["job"]]
if not 0 <= index < len(runnable):
    sys.exit(f"{joblist}: no job {index}; it has {len(runnable)} (array indexes 0-{len(runnable) - 1}).")
entry = runnable[index]
if os.path.exists(entry["render"]):
    print(f"{entry['render']} exists; nothing to do.", file=sys.stderr)
    sys.exit(0)
path = os.path.join(jobs_dir, entry["key"] + ".json")
tmp = os.path.join(jobs_dir, f".{entry['key']}.json.{os.getpid()}")
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(entry["job"], f, indent=2)
os.replace(tmp, path)
print(path)
PY
)"
[ -n "$job_file" ] || exit 0
log="$(dirname "$joblist")/logs/$(basename "$job_file" .json).log"
mkdir -p "$(dirname "$log")"
# shellcheck disable=SC2086 # LIPFLAP_RUN may be a command with arguments
exec $LIPFLAP_RUN --job "$job_file" --progress json 2> "$log"
