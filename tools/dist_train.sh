#!/usr/bin/env bash
# Data-parallel training with torchrun:
#   bash tools/dist_train.sh CONFIG NGPUS [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without CUDA, NGPUS
# processes train on the CPU with the gloo backend.
# PYTHON picks the interpreter (default: python).

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

# exec: the script's PID is the launcher's, so killing it ends the ranks
PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
exec $PYTHON -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/train.py \
    $CONFIG \
    --launcher pytorch ${@:3}
