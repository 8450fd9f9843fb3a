#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine (for CI and the tests
# marked `slurm`): installs Debian's slurm-wlm and munge if absent (root),
# writes a config under a temporary folder, starts munged, slurmctld and
# slurmd, and waits until `sinfo` shows the node idle.
#
#   bash tools/ci/start_slurm.sh [STATE_DIR]
#
# Prints `export` lines to stdout (SLURM_CONF, FGVC_AAM_SLURM_PARTITION,
# FGVC_AAM_SLURM_STATE): `eval "$(bash tools/ci/start_slurm.sh)"`.
# Everything else goes to stderr. Exits non-zero, saying why, when the
# cluster cannot start. Stop it with tools/ci/stop_slurm.sh STATE_DIR.
# PARTITION (default cpu), CPUS (default 2), WAIT_S (default 90),
# SLURMCTLD_PORT (6817) and SLURMD_PORT (6818) can be set in the
# environment.
set -euo pipefail

PARTITION=${PARTITION:-cpu}
CPUS=${CPUS:-2}
WAIT_S=${WAIT_S:-90}
STATE=${1:-$(mktemp -d /tmp/fgvc_aam_slurm.XXXXXX)}
log() { echo "start_slurm: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "slurm-wlm/munge are not installed and this \
is not root (install them: apt-get install -y slurm-wlm munge)"
    command -v apt-get >/dev/null || fail "no apt-get to install slurm-wlm"
    log "installing slurm-wlm and munge from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || fail "apt-get update failed"
    apt-get install -y -q --no-install-recommends slurm-wlm munge >&2 \
        || fail "apt-get install slurm-wlm munge failed"
fi
[ "$(id -u)" = 0 ] || fail "slurmd must run as root here"

CTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
for port in "$CTLD_PORT" "$SLURMD_PORT"; do
    # a daemon of another cluster there would answer our commands instead
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        fail "port $port is in use (another slurmctld/slurmd?): stop it, \
or set SLURMCTLD_PORT and SLURMD_PORT"
    fi
done

mkdir -p "$STATE"/{spool,slurmd,log,munge}
STATE=$(cd "$STATE" && pwd)
HOST=$(hostname -s)

# munge: its own key and socket under STATE (does not touch /etc/munge)
KEY="$STATE/munge/munge.key"
SOCKET="$STATE/munge/munge.socket"
[ -f "$KEY" ] || dd if=/dev/urandom of="$KEY" bs=1024 count=1 2>/dev/null
chmod 700 "$STATE/munge"
chmod 400 "$KEY"
munged --force --key-file="$KEY" --socket="$SOCKET" \
    --pid-file="$STATE/munge/munged.pid" \
    --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/seed" \
    || fail "munged did not start (see $STATE/log/munged.log)"

CONF="$STATE/slurm.conf"
cat > "$CONF" <<CONF
ClusterName=fgvcaamci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$STATE/spool
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
InactiveLimit=0
MinJobAge=300
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$CONF"

slurmctld -f "$CONF" || fail "slurmctld did not start (see \
$STATE/log/slurmctld.log)"
slurmd -f "$CONF" || fail "slurmd did not start (see $STATE/log/slurmd.log)"

for _ in $(seq "$WAIT_S"); do
    state=$(sinfo -h -p "$PARTITION" -o '%t' 2>/dev/null | head -n1 || true)
    case "$state" in
        idle|mix|alloc) break ;;
    esac
    sleep 1
done
state=$(sinfo -h -p "$PARTITION" -o '%t' 2>/dev/null | head -n1 || true)
case "$state" in
    idle|mix|alloc) ;;
    *) fail "node $HOST not idle after ${WAIT_S}s (state '$state'); logs in \
$STATE/log" ;;
esac
sinfo >&2
log "up: partition $PARTITION, state dir $STATE"
echo "export SLURM_CONF=$CONF"
echo "export FGVC_AAM_SLURM_PARTITION=$PARTITION"
echo "export FGVC_AAM_SLURM_STATE=$STATE"
