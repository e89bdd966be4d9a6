#!/usr/bin/env bash
# The baselines issue's DQN on DoorKey-8x8 on this CPU, one setting after another (5 vmapped seeds,
# 300k env steps (STEPS), ~8-10 min each on 2 cores; rerun to resume: each workdir continues where it
# stopped). Round "gamma": the common DQN with epsilon over 250k (RESULTS.md §9's CPU run,
# runs/cpu_common_eps250k) and one difference: a shorter discount, which widens the action gap
# that dqn_greedy_probe.py found the greedy policy lost in (loops where every action is worth
# ~gamma x the state's value). gamma95 ran first and learned nothing (q_mean ~0.01), so the
# round went on with faster target copies (tgt100) and advantage learning (al09) instead.
# Round "actions" (env.actions): the same run with MiniGrid's drop and done left out of the
# agent's actions (act5), where a random drop loses the key and done changes nothing; act5_conv
# with the 2x2 CNN torso too; base_act5: goalrl's :minigrid DQN settings (not the common DQN's)
# with the same action set.
# act5_e100, act5_e50 (exploration issue): act5 with epsilon over 100k / 50k, to show what count
# optimism adds. act5_e100_n3, act5_e100_n5: act5_e100 with 3- and 5-step targets; act5_e50_n3,
# act5_e20_n3: 3-step targets with epsilon over 50k / 20k (RESULTS.md §45, STEPS=100000).
# EXTRA adds flags to every setting, e.g. EXTRA=--config.seed=5 (seeds 5-9; RUNS elsewhere).
# Summarise with
#   PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs runs/cpu_dqn_doorkey
set -u
cd "${ROOT:-$(dirname "$0")/..}"
RUNS=${RUNS:-runs/cpu_dqn_doorkey}
run="--config.env.name=MiniGrid-DoorKey-8x8-v0 --config.num_seeds=5 --config.total_steps=${STEPS:-300000}
  --config.log_every=10000 --config.checkpoint_every=50000"
common="$run --config.env.num_envs=8 --config.agent.updates_per_train=2 --config.agent.n_step=1
  --config.agent.learning_rate=2.5e-4 --config.agent.target_update_every=250
  --config.agent.epsilon_decay_steps=250000"
act5="--config.env.actions=left,right,forward,pickup,toggle"
for setting in ${SETTINGS:-gamma95 gamma90 gamma95_eps150k}; do
  args=$common
  case $setting in
    gamma95) extra="--config.agent.gamma=0.95" ;;
    gamma90) extra="--config.agent.gamma=0.9" ;;
    gamma95_eps150k) extra="--config.agent.gamma=0.95 --config.agent.epsilon_decay_steps=150000" ;;
    tgt100) extra="--config.agent.target_update_every=100" ;;
    al09) extra="--config.agent.advantage_alpha=0.9" ;;  # advantage learning, the paper's alpha
    al05) extra="--config.agent.advantage_alpha=0.5" ;;
    act5) extra="$act5" ;;
    act5_conv) extra="$act5 --config.agent.torso=conv" ;;
    base_act5) extra="$act5"; args=$run ;;
    # act5 with epsilon over 100k: the optimism-off twin of cpu_opiq_doorkey.sh's obs_opiq_e100
    act5_e100) extra="$act5"; args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=100000} ;;  # experiments/dqn.py:minigrid's own settings
    # epsilon over 50k: the twin of cpu_opiq_doorkey.sh's obs_opiq_e50 (DQN's third epsilon)
    act5_e50) extra="$act5"; args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=50000} ;;
    # act5_e100 with 3- and 5-step targets: n-step was measured only with all seven actions
    # (RESULTS §9, where random drops undo progress); with five, does it speed learning up?
    act5_e100_n3) extra="$act5 --config.agent.n_step=3"
      args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=100000} ;;
    act5_e100_n5) extra="$act5 --config.agent.n_step=5"
      args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=100000} ;;
    # 3-step targets with epsilon over 50k and 20k (RESULTS §45): the goal agent's schedules
    act5_e50_n3) extra="$act5 --config.agent.n_step=3"
      args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=50000} ;;
    act5_e20_n3) extra="$act5 --config.agent.n_step=3"
      args=${common/epsilon_decay_steps=250000/epsilon_decay_steps=20000} ;;
    *) echo "unknown setting $setting"; exit 2 ;;
  esac
  mkdir -p "$RUNS/$setting"
  # shellcheck disable=SC2086
  PYTHONPATH=src .venv/bin/python -m goalrl.train --config=experiments/dqn.py:minigrid \
    --workdir="$RUNS/$setting" $args $extra ${EXTRA:-} > "$RUNS/$setting/train.log" 2>&1
  echo "$setting: exit $?"
done
