#!/usr/bin/env bash
# The exploration issue's measurement of count-based optimism (OPIQ, goalrl/counts.py) on this
# CPU, one setting after another (5 vmapped seeds, DoorKey-8x8, 300k env steps; rerun to resume).
# Every setting is experiments/optimistic_dqn.py:minigrid with DQN's learner settings (8 envs,
# 1-step targets, Adam 2.5e-4: experiments/dqn.py:minigrid, the baseline it must beat), then one
# difference group (each names its Q input and optimism, so it means what it meant before the
# default became obs_opiq on 2026-11-30, obs_opiq_e50 on 2026-12-01):
#   latent        no optimism at all (ratio 0): DQN on latents, epsilon over 250k (DQN's)
#   latent_grads  latent, with the TD loss's gradient reaching the encoder (encoder.agent_grads)
#   synthetic     the note's optimism (10% synthetic terminal rows, reward 0.5), epsilon 250k
#   latent_e100   no optimism, epsilon over 100k (DQN alone fails DoorKey-8x8 so, RESULTS §9)
#   opiq_e100     action_coef 0.1, bootstrap_coef 0.01 (OPIQ's Montezuma values), epsilon 100k
#   opiqbig_e100  action_coef 1.0, bootstrap_coef 0.1, epsilon 100k
#   opiq          action_coef 0.1, bootstrap_coef 0.01, epsilon 250k
#   obs_opiq      opiq with Q on the observation (q_input=observation: DQN's network; with no
#                 optimism this setting is experiments/dqn.py:minigrid, the reference DQN)
#   obs_opiqbig   obs_opiq with action_coef 1.0, bootstrap_coef 0.1
#   obs_oracle    obs_opiq counting the agent's true pose (optimism.counts=position, the oracle)
#   obs_opiq_e100, obs_opiqbig_e100: the two, epsilon over 100k (where DQN alone fails, §9: can
#                 the counts stand in for dithering?); obs_opiq_e50: obs_opiq, epsilon over 50k;
#                 obs_opiqsmall_e50: the same with coefficients 0.03/0.003 (do the late collapses
#                 of obs_opiq_e50, RESULTS §14, come from the bonus?); obs_opiq_e50_tgt1000:
#                 obs_opiq_e50 with the target copied every 1,000 updates (4,000 env steps), not
#                 250: do they come from the learner? (DQN alone collapses too, §15);
#                 obs_opiq_e50_deep: obs_opiq_e50 with the goal agent actor's head (two dense
#                 layers of 256 after the torso, head_layers=[256,256], not one): does the actor's
#                 depth explain its lag with counts (RESULTS §15)?
#   obs_epi       Q on the observation, episodic novelty alone (optimism.episode_coef=0.01: a
#                 first visit of a view this episode pays 0.01, the N-th 0.01/sqrt(N); NGU's)
#   obs_epig      the same, times the view's lifelong 1/sqrt(N+1) (episode_global, coef 0.1; E3B's
#                 global x episodic product, which fades)
#   obs_opiq_epi  obs_opiq (the default since 2026-11-30) plus obs_epi's episodic novelty
#   obs_noveld    obs_epi with NovelD's reward instead (optimism.episode_novelty=noveld, coef 0.02:
#                 a first visit this episode pays 0.02 * max(nov(s') - 0.5 nov(s), 0), nov =
#                 1/sqrt(N+1) by lifelong counts: a fresh view from a fresh one 0.01, as obs_epi's)
#   obs_noveld05  the same with coef 0.05
#   obs_epi_noveld obs_epi's episodic count reward (0.01 / sqrt(N_ep)) plus obs_noveld's NovelD
#                 reward (episode_novelty=count+noveld, noveld_coef 0.02): NovelD's gain on top of
#                 a first-visit reward that does not fade
# TASK=MiniGrid-MultiRoom-N4-S5-v0 (or another MiniGrid task) runs the same settings there.
# EXTRA adds flags to every setting, e.g. EXTRA=--config.seed=5 (seeds 5-9; RUNS elsewhere).
# Summarise with
#   PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs runs/cpu_opiq_doorkey
set -u
cd "${ROOT:-$(dirname "$0")/..}"
RUNS=${RUNS:-runs/cpu_opiq_doorkey}
SRC=${SRC:-src}
opt=--config.agent.optimism
run="--config.num_seeds=5 --config.log_every=10000 --config.checkpoint_every=50000
  --config.env.name=${TASK:-MiniGrid-DoorKey-8x8-v0} --config.total_steps=${STEPS:-300000}
  --config.env.num_envs=8 --config.agent.n_step=1 --config.agent.learning_rate=2.5e-4"
for setting in ${SETTINGS:-latent_e100 opiq_e100 opiqbig_e100 latent opiq synthetic}; do
  e100=--config.agent.epsilon_decay_steps=100000
  e250=--config.agent.epsilon_decay_steps=250000
  lat=--config.agent.q_input=latent  # the default reads the observation since 2026-11-30
  nocount="$opt.action_coef=0.0 $opt.bootstrap_coef=0.0"
  case $setting in
    latent) extra="$lat $e250 $opt.ratio=0.0" ;;
    latent_grads) extra="$lat $e250 $opt.ratio=0.0 --config.agent.encoder.agent_grads=True" ;;
    synthetic) extra="$lat $e250 $opt.ratio=0.1" ;;
    latent_e100) extra="$lat $e100 $opt.ratio=0.0" ;;
    opiq_e100) extra="$lat $e100 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01" ;;
    opiqbig_e100) extra="$lat $e100 $opt.ratio=0.0 $opt.action_coef=1.0 $opt.bootstrap_coef=0.1" ;;
    opiq) extra="$lat $e250 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01" ;;
    obs_opiq) extra="$e250 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01
      --config.agent.q_input=observation" ;;
    obs_opiqbig) extra="$e250 $opt.ratio=0.0 $opt.action_coef=1.0 $opt.bootstrap_coef=0.1
      --config.agent.q_input=observation" ;;
    obs_oracle) extra="$e250 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01
      --config.agent.q_input=observation $opt.counts=position --config.env.oracle_position=True" ;;
    obs_opiq_e100) extra="$e100 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01
      --config.agent.q_input=observation" ;;
    obs_opiqbig_e100) extra="$e100 $opt.ratio=0.0 $opt.action_coef=1.0 $opt.bootstrap_coef=0.1
      --config.agent.q_input=observation" ;;
    obs_opiq_e50) extra="--config.agent.epsilon_decay_steps=50000 $opt.ratio=0.0 $opt.action_coef=0.1
      $opt.bootstrap_coef=0.01 --config.agent.q_input=observation" ;;
    obs_opiq_e50_tgt1000) extra="--config.agent.epsilon_decay_steps=50000 $opt.ratio=0.0
      $opt.action_coef=0.1 $opt.bootstrap_coef=0.01 --config.agent.q_input=observation
      --config.agent.target_update_every=1000" ;;
    obs_opiq_e50_deep) extra="--config.agent.epsilon_decay_steps=50000 $opt.ratio=0.0
      $opt.action_coef=0.1 $opt.bootstrap_coef=0.01 --config.agent.q_input=observation
      --config.agent.head_layers=[256,256]" ;;
    obs_opiqsmall_e50) extra="--config.agent.epsilon_decay_steps=50000 $opt.ratio=0.0
      $opt.action_coef=0.03 $opt.bootstrap_coef=0.003 --config.agent.q_input=observation" ;;
    obs_epi) extra="$e250 $opt.ratio=0.0 $nocount $opt.episode_coef=0.01 --config.agent.q_input=observation" ;;
    obs_opiq_epi) extra="$e250 $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01
      $opt.episode_coef=0.01 --config.agent.q_input=observation" ;;
    obs_noveld) extra="$e250 $opt.ratio=0.0 $nocount $opt.episode_coef=0.02
      $opt.episode_novelty=noveld --config.agent.q_input=observation" ;;
    obs_noveld05) extra="$e250 $opt.ratio=0.0 $nocount $opt.episode_coef=0.05
      $opt.episode_novelty=noveld --config.agent.q_input=observation" ;;
    obs_epi_noveld) extra="$e250 $opt.ratio=0.0 $nocount $opt.episode_coef=0.01
      $opt.episode_novelty=count+noveld $opt.noveld_coef=0.02 --config.agent.q_input=observation" ;;
    obs_epig) extra="$e250 $opt.ratio=0.0 $nocount $opt.episode_coef=0.1 $opt.episode_global=True
      --config.agent.q_input=observation" ;;
    *) echo "unknown setting $setting"; exit 2 ;;
  esac
  mkdir -p "$RUNS/$setting"
  # shellcheck disable=SC2086
  PYTHONPATH=$SRC .venv/bin/python -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid \
    --workdir="$RUNS/$setting" $run $extra ${EXTRA:-} > "$RUNS/$setting/train.log" 2>&1
  echo "$setting: exit $?"
done
