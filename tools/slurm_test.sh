#!/usr/bin/env bash
# Testing on a Slurm cluster, as MMPretrain's tools/slurm_test.sh:
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS and PYTHON as in
# tools/slurm_train.sh; GPUS_PER_NODE=0 runs GPUS CPU tasks (no --gres).

set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
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
    $PYTHON -u $(dirname "$0")/test.py ${CONFIG} ${CHECKPOINT} --launcher="slurm" ${PY_ARGS}
