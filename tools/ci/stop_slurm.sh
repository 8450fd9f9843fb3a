#!/usr/bin/env bash
# Stop the cluster tools/ci/start_slurm.sh started from STATE_DIR: cancel
# its jobs, stop slurmd, slurmctld and munged (by their PID files).
#   bash tools/ci/stop_slurm.sh STATE_DIR
STATE=${1:?usage: stop_slurm.sh STATE_DIR}
[ -f "$STATE/slurm.conf" ] || { echo "stop_slurm: no cluster in $STATE" >&2
                                exit 0; }
export SLURM_CONF="$STATE/slurm.conf"
scancel --full --user="$(id -un)" 2>/dev/null || true
for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" \
               "$STATE/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
done
echo "stop_slurm: stopped the cluster of $STATE" >&2
