#!/usr/bin/env bash
# The baselines issue's controlled comparison on a lent GPU: goalrl's DQN against the common
# (cleanrl-style) DQN on MiniGrid-DoorKey-8x8, one difference at a time, 5 vmapped seeds each,
# every setting its own process on the one GPU at once (small networks leave it mostly idle).
# Brings back every run's metrics.jsonl, config.json and train.log as $OUT/dqn_doorkey_runs.tgz;
# summarise here with
#   tar xzf dqn_doorkey_runs.tgz -C runs/ && python benchmarks/dqn_doorkey.py --runs runs/dqn_doorkey
# Device tool: run(command="bash benchmarks/gpu_dqn_doorkey.sh", carry=[".gpu"]), after
# bash benchmarks/gpu_site.sh here.
set -u
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:-/tmp/gpu_out}
RUNS=/tmp/runs/dqn_doorkey
mkdir -p "$OUT" /tmp/site "$RUNS"
tar xzf .gpu/site.tgz -C /tmp/site || exit 1
export PYTHONPATH=$PWD/src:/tmp/site
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/device.txt"
STEPS=${STEPS:-500000}
common="--config.env.name=MiniGrid-DoorKey-8x8-v0 --config.num_seeds=5 --config.total_steps=$STEPS
  --config.log_every=10000 --config.checkpoint_every=$STEPS --config.env.num_threads=2"
# The common DQN: 8 envs, one update of 64 per 4 env steps, 1-step targets, Adam 2.5e-4, target
# copy every 1,000 env steps (250 updates), epsilon 1 -> 0.05 over 500k env steps.
cdqn="--config.env.num_envs=8 --config.agent.updates_per_train=2 --config.agent.n_step=1
  --config.agent.learning_rate=2.5e-4 --config.agent.target_update_every=250
  --config.agent.epsilon_decay_steps=500000"
conv="$cdqn --config.agent.torso=conv"
declare -A GRID
if [ "${SET:-1}" = 1 ]; then  # round 1: one difference at a time from goalrl's :minigrid / the common DQN
  GRID=(
    [base]=""
    [base_eps500k]="--config.agent.epsilon_decay_steps=500000"
    [base_eps500k_ratio4]="--config.agent.epsilon_decay_steps=500000 --config.agent.updates_per_train=4"
    [common]="$cdqn"
    [common_conv]="$conv"
    [common_n3]="$cdqn --config.agent.n_step=3"
    [common_n5]="$cdqn --config.agent.n_step=5"
    [common_lr5e-4]="$cdqn --config.agent.learning_rate=5e-4"
    [common_eps100k]="$cdqn --config.agent.epsilon_decay_steps=100000"
    [common_16envs]="$cdqn --config.env.num_envs=16 --config.agent.updates_per_train=4"
  )
elif [ "${SET}" = 3 ]; then  # round 3: faster epsilon with conv and dense, one change each
  c3="$conv --config.agent.epsilon_decay_steps=300000"
  d3="$cdqn --config.agent.epsilon_decay_steps=300000"
  GRID=(
    [conv_eps300k]="$c3"
    [conv_eps400k]="$conv --config.agent.epsilon_decay_steps=400000"
    [conv_eps300k_tgt1000]="$c3 --config.agent.target_update_every=1000"
    [conv_eps300k_b128]="$c3 --config.agent.batch_size=128"
    [conv_eps300k_buf50k]="$c3 --config.agent.replay_size=50000"
    [conv_eps300k_16envs]="$c3 --config.env.num_envs=16 --config.agent.updates_per_train=4"
    [conv_eps300k_lr1e-4]="$c3 --config.agent.learning_rate=1e-4"
    [dense_eps300k]="$d3"
    [dense_eps300k_tgt1000]="$d3 --config.agent.target_update_every=1000"
    [dense_eps300k_16envs]="$d3 --config.env.num_envs=16 --config.agent.updates_per_train=4"
  )
else  # round 2: around the best of round 1 (common_conv), aiming at 0.9 within 300k
  GRID=(
    [conv_eps250k]="$conv --config.agent.epsilon_decay_steps=250000"
    [conv_eps250k_lr1e-4]="$conv --config.agent.epsilon_decay_steps=250000 --config.agent.learning_rate=1e-4"
    [conv_eps250k_tgt500]="$conv --config.agent.epsilon_decay_steps=250000 --config.agent.target_update_every=500"
    [common_eps250k]="$cdqn --config.agent.epsilon_decay_steps=250000"
    [conv_eps250k_ratio2]="$conv --config.agent.epsilon_decay_steps=250000 --config.agent.updates_per_train=4"
  )
fi
for name in "${!GRID[@]}"; do
  mkdir -p "$RUNS/$name"
  # shellcheck disable=SC2086
  timeout "${RUN_S:-480}" python3 -m goalrl.train --config=experiments/dqn.py:minigrid \
    --workdir="$RUNS/$name" $common ${GRID[$name]} > "$RUNS/$name/train.log" 2>&1 &
done
wait
for name in "${!GRID[@]}"; do echo "== $name"; grep -v "^WARNING" "$RUNS/$name/train.log" | tail -2; done
cd /tmp/runs && find dqn_doorkey \( -name metrics.jsonl -o -name config.json -o -name train.log \) \
  -print0 | tar czf "$OUT/dqn_doorkey_runs.tgz" --null -T -
ls -la "$OUT"
