#!/usr/bin/env bash
# Training on a Slurm cluster, as MMPretrain's tools/slurm_train.sh:
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# GPUS (tasks, one per GPU; default 8), GPUS_PER_NODE (default 8),
# CPUS_PER_TASK (default 5) and SRUN_ARGS as in MMPretrain; PYTHON picks the
# interpreter (default: python).
# CPU: GPUS_PER_NODE=0 asks for no GPU (no --gres) and runs GPUS tasks that
# train data-parallel on the CPU (gloo), e.g.
#   GPUS=2 GPUS_PER_NODE=0 CPUS_PER_TASK=1 bash tools/slurm_train.sh cpu ...

set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
PY_ARGS=${@:5}

if [ "${GPUS_PER_NODE}" = 0 ]; then
    NODE_ARGS=""  # CPU tasks: no GPU asked for, Slurm places the tasks
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$CPUS_PER_TASK}  # per task
else
    NODE_ARGS="--gres=gpu:${GPUS_PER_NODE} --ntasks-per-node=${GPUS_PER_NODE}"
fi

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    ${NODE_ARGS} \
    --ntasks=${GPUS} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    $PYTHON -u $(dirname "$0")/train.py ${CONFIG} --work-dir=${WORK_DIR} --launcher="slurm" ${PY_ARGS}
