#!/usr/bin/env bash
# The exploration issue's sanity check of the goal agent on this CPU: DoorKey-5x5, 5 vmapped seeds,
# 200k env steps, one setting after another (rerun to resume). Settings:
#   achiever  experiments/goal_agent.py:minigrid as it was from 2026-12-01 (twelfth session) to
#             2026-12-03: counts_e50_rtf_achg below without its oracle diagnostics, on its own
#             learner (DQN's; LEARNER is ignored), with 1-step actor targets as every row before
#             RESULTS §28 (the default's are 3-step since 2026-12-02) and without the task as a
#             candidate (the default's since 2026-12-03: achiever_task). Every other setting
#             starts from the default before it, experiments/goal_agent.py:archive, so the
#             commands of RESULTS.md §10-§20 still mean
#             what they measured.
#   achiever_zero the achiever default with goals disabled: no achiever, no goal phases, the actor
#             acting on the task with OPIQ's counts at every step (goal_ablation=zero,
#             explore_steps=0, goal_counts=True): the same learner and network, goals removed
#   achiever_epi  achiever with episodic novelty instead of OPIQ's counts, as optimistic DQN's
#             obs_epi (benchmarks/cpu_opiq_doorkey.sh: optimism.episode_coef=0.01, epsilon over
#             250k): the lever on MultiRoom-N4-S5 (RESULTS.md §13-§15), with goals
#   achiever_task achiever with the task as the setter's candidate (task_goal=True: an env takes
#             the task where the actor's max_a Q(s, 0, a) beats every goal's score) on an actor
#             head that starts at 0 (actor_zero_head=True: the untrained task is worth 0), so the
#             goals give way by value as the task is learned (RESULTS.md §17, §29); with
#             EXTRA=--config.agent.actor_n_step=3, experiments/goal_agent.py:minigrid since
#             2026-12-03
#   achiever_task_q achiever_task with the task scored by Q(s, 0) (task_score=goal_q: the
#             environment's reward, the goals' scale) instead of the actor's value, which holds
#             its intrinsic reward (RESULTS.md §29); §30 ran it with Q(s, g) relabelled and
#             bootstrapped at the goal level (EXTRA="--config.agent.actor_n_step=3
#             --config.agent.goal_q_bootstrap=bootstrap_row --config.agent.goal_q_her=0.5")
#   achiever_task_q_noise achiever_task_q with goal_ablation=noise: every phase as with goals,
#             but an env on a goal acts uniformly at random, not on the achiever: do goals steer,
#             or do goal phases only take steps off the greedy task policy? (RESULTS.md §31-§32)
#   achiever_task_q_reach achiever_task_q with MEGA's reachability filter on the achiever
#             (goal_reach_steps=REACH_STEPS, 10 unless set: only candidates the achiever values
#             >= 0.9 ** REACH_STEPS, else the one it values most): goals it can reach, so that they
#             can steer (RESULTS.md §33)
#   achiever_task_q_top achiever_task_q with the filter by rank (goal_reach_top=REACH_TOP, 4 unless
#             set: the setter's pick among the 4 of 32 candidates the achiever values most), for
#             where the achiever values every candidate over any cutoff (RESULTS.md §33)
#   default   experiments/goal_agent.py:archive (archive goals, novelty, actor sees the task: the
#             default until 2026-12-01)
#   note      experiments/goal_agent.py:note (the note's design, commit 81aed7c)
#   no_env    default with actor_env_reward=0: the archive alone, actor rewarded by goals only
#   zero      default with goal_ablation=zero: the actor sees no goal, earns the env's reward only
#             (DQN on latents with the actor's discount): do the goals matter?
#   random    default with goal_ablation=random: the setter keeps any candidate, Q(s, g) unread
#   reach     default with goal_reach_steps=20: MEGA's reachability filter, only goals the actor
#             values >= actor_gamma ** 20
#   episode   default with archive_scope=episode: each env's goals are cells it visited in its
#             current episode (views of the layout it is in)
#   obs_zero    goals disabled, the actor reading the observation (actor_input=observation)
#   obs_episode episode, the actor reading the observation
#   obs_taskw   obs_episode with the task's reward weighted 10 (actor_env_reward=10): a reached
#               goal pays 1, the task ~10, so goals cannot outbid it
#   obs_exploit obs_episode with half the envs in exploit mode (zero goal, the task alone) and half
#               the other actor rows relabelled to the task (exploit_fraction=task_fraction=0.5)
#   counts_e50       default with OPIQ's counts on the actor (optimism.action_coef=0.1,
#                    bootstrap_coef=0.01, optimistic DQN's default) and epsilon over 50k (where the
#                    counts let optimistic DQN learn DoorKey-8x8 in 5/5 seeds, RESULTS.md §14)
#   counts_e50_zero  the same with goal_ablation=zero: do the goals add to the counts?
#   counts_e50_episode  counts_e50 with archive_scope=episode (goals this episode's views)
#   counts_e50_zero_l1  counts_e50_zero with one dense layer in the actor, as DQN's network
#                    (actor_layers=(256,), the default's is two): does the depth matter?
#   counts_e50_task  counts_e50_episode with the task as the setter's candidate (task_goal: the
#                    actor's max_a Q(s, 0, a) against the goals' Q(s, g) + novelty) and a quarter
#                    of the goal rows relabelled to the task (task_fraction=0.25); RESULTS §16
#                    ran it at 7c663f6, whose actor had one layer
#                    (EXTRA=--config.agent.actor_layers=(256,))
#   counts_e50_task0 counts_e50_task made a test of the idea: the actor's action values start at 0
#                    (actor_zero_head, so the untrained task is worth 0 and goals' novelty wins)
#                    and HER leaves task rows alone (task_her=False)
#   counts_e50_rte   Go-Explore's return-then-explore: counts_e50 with this episode's rarest views
#                    as goals (archive_scope=episode), reached when the view's archive cell is the
#                    goal's (reach_test=cell); an env that reaches its goal acts on the task with
#                    the counts for 40 steps (explore_steps=40), its rows task rows off HER
#                    (task_her=False), then picks a goal again
#   counts_e50_rte_ended  the same, exploring after every goal's end (explore_after=ended:
#                    reached or abandoned): goal and explore phases alternate
#   counts_e50_rte_first  counts_e50_rte_ended made closer to Go-Explore: each episode starts
#                    exploring (explore_first, so its first goal is a view of its own layout) and
#                    goals are pursued without the counts' action bonus (goal_counts=False)
#   counts_e50_rtf_h32  counts_e50_rte_first with HER "future" over 32 steps (horizon=32, not 8:
#                    goals are held up to 20 steps, and the actor learned to reach goals within 8)
#   counts_e50_rtf_oracle  counts_e50_rte_first with the true cells in the observation
#                    (env.oracle_position; no network reads them): the same agent, plus the goals'
#                    grid distance and in-view share at choice, and which of them are reached
#   counts_e50_rtf_pos  counts_e50_rtf_oracle with the actor reading where its goal's true pose
#                    lies from its own (actor_position, an oracle; RESULTS §19 ran it at 25970e5,
#                    with both poses one-hot instead): can the actor reach goals when it knows
#                    where they are?
#   counts_e50_rtf_ach  counts_e50_rtf_oracle with LEXA's achiever (achiever=True): goals pursued
#                    by a network of their own, trained to reach later states on every row; the
#                    actor learns the task (with the counts) from every row
#   counts_e50_rtf_ach_pos  counts_e50_rtf_ach whose achiever reads the true poses (actor_position)
#   counts_e50_rtf_achs, counts_e50_rtf_achs_pos  the two above with skip_reached_rows: rows whose
#                    state already reaches their goal stay out of the achiever's loss
#   counts_e50_rtf_achg, counts_e50_rtf_achg_pos  the two above with the achiever's own discount
#                    0.9 (achiever_gamma; LEARNER=dqn gives the actor 0.99)
#   counts_e50_rtf_achg8  counts_e50_rtf_achg with the achiever's discount 0.8
#   counts_e50_rtf_achgp, counts_e50_rtf_achgp_pos  counts_e50_rtf_achg(_pos) with goals reached
#                    at their true pose (reach_test=pose, an oracle), whatever changed in the view:
#                    how many goals are lost to a world that moved on?
#   counts_e50_rtf_achgd  counts_e50_rtf_achg with goals reached by a learned temporal distance
#                    under 1 step (distance=learned, distance_pairs=contrastive, reach_threshold=1;
#                    reach_test=distance): pose's question without the oracle
#   counts_e50_rtf_achg_amigo  counts_e50_rtf_achg with the setter scoring goals by AMIGo's teacher
#                    (goal_score=amigo, goalrl.teacher: learned from whether goals were reached in
#                    >= t* steps, t* rising from 7) instead of Q(s, g)
#   amigo     achiever with the setter scoring goals by AMIGo's teacher (goal_score=amigo)
# The default actor reads the observation since 2026-11-30 (evening); the runs of RESULTS.md §10 and
# §11 (default, note, no_env, zero, random, reach, episode) ran the latent actor: rerun them with
# EXTRA=--config.agent.actor_input=latent (obs_* settings name the observation actor either way).
# LEARNER=dqn gives every setting DQN's learner (experiments/dqn.py:minigrid, the one that learns
# DoorKey-8x8: 8 envs, Adam 2.5e-4, epsilon over 250k) and the actor DQN's discount 0.99; the
# goal agent's own (16 envs, 5e-4, epsilon over 100k, actor discount 0.9) each kept DQN off 8x8.
# DoorKey-8x8 as measured in RESULTS.md §10 (2026-11-30, second session):
#   TASK=MiniGrid-DoorKey-8x8-v0 LEARNER=dqn SETTINGS="zero reach episode obs_zero obs_episode" bash benchmarks/cpu_goal_doorkey.sh
# DoorKey-16x16 as measured in RESULTS.md §31 (2026-12-03, twenty-third session: goals acting vs
# goals disabled where a near-random policy rarely finds the reward; one command per setting, both
# at once):
#   TASK=MiniGrid-DoorKey-16x16-v0 STEPS=300000 RUNS=runs/s23_dk16 SETTINGS=achiever_task_q \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.goal_q_bootstrap=bootstrap_row
#     --config.agent.goal_q_her=0.5 --config.checkpoint_every=20000" bash benchmarks/cpu_goal_doorkey.sh
#   TASK=MiniGrid-DoorKey-16x16-v0 STEPS=300000 RUNS=runs/s23_dk16 SETTINGS=achiever_zero \
#     EXTRA="--config.agent.actor_n_step=3 --config.checkpoint_every=20000" bash benchmarks/cpu_goal_doorkey.sh
# RESULTS.md §32 (twenty-fourth session) ran both with STEPS=150000 RUNS=runs/s24_dk16 and
# "--config.seed=5" added to EXTRA (seeds 5-9). The noise control (goal phases kept, actions random
# in them) is achiever_task_q's command with SETTINGS=achiever_task_q_noise.
# RESULTS.md §34 (twenty-sixth session), seeds 0-4, each achiever_task_q's command with, in EXTRA:
#   hindsight goals up to 32 steps ahead instead of 8: "--config.agent.horizon=32" (RUNS=runs/s26_dk16_h32)
#   where goals lie (oracle metrics only): "--config.env.oracle_position=True" (RUNS=runs/s26_dk16_oracle)
#   the achiever told its goal's true pose: "--config.env.oracle_position=True
#     --config.agent.actor_position=True" (RUNS=runs/s26_dk16_pos)
# RESULTS.md §35 (twenty-seventh session), goals drawn among the whole run's views:
#   TASK=MiniGrid-DoorKey-8x8-v0 STEPS=150000 SETTINGS=achiever_task RUNS=runs/s27_dk8_run \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.archive_scope=run --config.checkpoint_every=10000"
#   TASK=MiniGrid-KeyCorridorS3R3-v0 STEPS=300000 SETTINGS=achiever_task_q RUNS=runs/s27_kc_run \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.archive_scope=run --config.checkpoint_every=10000"
# RESULTS.md §36 (twenty-eighth session), goals named by situation (what the agent carries and faces),
# drawn among the whole run's:
#   TASK=MiniGrid-DoorKey-8x8-v0 STEPS=150000 SETTINGS=achiever_task RUNS=runs/s28_dk8_sit \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.archive_scope=run
#     --config.agent.archive_cells=situation --config.checkpoint_every=10000"
# RESULTS.md §37 (twenty-ninth session), situation goals on DoorKey-16x16 (seeds 0-4; seeds 5-9 with
# "--config.seed=5" added to EXTRA and RUNS=runs/s29_dk16_sit_s5; the noise control with
# SETTINGS=achiever_task_q_noise) and on DoorKey-8x8 (RUNS=runs/s29_dk8_sit_q, TASK=...-8x8-v0):
#   TASK=MiniGrid-DoorKey-16x16-v0 STEPS=100000 SETTINGS=achiever_task_q RUNS=runs/s29_dk16_sit \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.goal_q_bootstrap=bootstrap_row
#     --config.agent.goal_q_her=0.5 --config.agent.archive_scope=run
#     --config.agent.archive_cells=situation --config.checkpoint_every=10000"
# RESULTS.md §38 (thirtieth session): §37's runs resumed to 150k (STEPS=150000, same RUNS and
# EXTRA), and the same setting, today's default, on DoorKey-5x5 (RUNS=runs/s30_dk5_sit, stopped
# at 40k) and KeyCorridorS3R3 (TASK=MiniGrid-KeyCorridorS3R3-v0 STEPS=300000
# RUNS=runs/s30_kc_sit, stopped at 100k)
# RESULTS.md §41 (thirty-third session), DoorKey-8x8 without OPIQ's counts, goals on and off
# (SETTINGS=achiever_task_q, then achiever_zero; seeds 5-9 with "--config.seed=5" added to EXTRA
# and RUNS=runs/s33_dk8_nocounts_s5), run with STEPS=100000 and read at 100k; the default's seeds
# 5-9 are §37's DoorKey-8x8 line with "--config.seed=5" and RUNS=runs/s33_dk8_sit_s5:
#   TASK=MiniGrid-DoorKey-8x8-v0 STEPS=100000 SETTINGS=achiever_task_q RUNS=runs/s32_dk8_nocounts \
#     EXTRA="--config.agent.actor_n_step=3 --config.agent.goal_q_bootstrap=bootstrap_row
#     --config.agent.goal_q_her=0.5 --config.agent.archive_scope=run
#     --config.agent.archive_cells=situation --config.checkpoint_every=10000
#     --config.agent.optimism.action_coef=0.0 --config.agent.optimism.bootstrap_coef=0.0"
# RESULTS.md §42 (thirty-fourth session): §41's four runs resumed to 150k (STEPS=150000, same
# RUNS and EXTRA), and DoorKey-16x16 with failing goals fading, §37's DoorKey-16x16 line with
# STEPS=150000, RUNS=runs/s33_dk16_reach and "--config.agent.archive_reach_power=1.0" added to EXTRA
# RESULTS.md §43 (thirty-fifth session): §37's line with "--config.agent.archive_reach_power=1.0"
# added to EXTRA (the goal agent's default since) on DoorKey-5x5 (STEPS=40000,
# RUNS=runs/s35_dk5_reach), DoorKey-8x8 (STEPS=100000, RUNS=runs/s35_dk8_reach), KeyCorridorS3R3
# (STEPS=100000, RUNS=runs/s35_kc_reach) and DoorKey-16x16 seeds 5-9 (STEPS=150000,
# RUNS=runs/s35_dk16_reach_s5, "--config.seed=5" added too)
# RESULTS.md §44 (thirty-sixth session), DoorKey-8x8 over ten seeds, from the tree at c2ea2d3: the
# §43 line with "--config.seed=5" (RUNS=runs/s36_dk8_reach_s5), and goals disabled, seeds 0-4 and
# 5-9, today's code (SETTINGS=achiever_zero, RUNS=runs/s36_dk8_zero and runs/s36_dk8_zero_s5,
# EXTRA="--config.agent.actor_n_step=3 --config.checkpoint_every=10000" and "--config.seed=5")
# RESULTS.md §45 (thirty-seventh session), DoorKey-8x8 with epsilon over 20k: the §43 line with
# "--config.agent.epsilon_decay_steps=20000" added to EXTRA (RUNS=runs/s37_dk8_e20; seeds 5-9
# with "--config.seed=5" added too and RUNS=runs/s37_dk8_e20_s5, stopped at 70k), and the §44
# goals-disabled line with the same flags (SETTINGS=achiever_zero, the same RUNS); DoorKey-5x5:
# the same §43 line with TASK=MiniGrid-DoorKey-5x5-v0 STEPS=40000 RUNS=runs/s37_dk5_e20 (stopped
# at 25k)
# Summarise with
#   PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs runs/cpu_goal_doorkey
set -u
cd "${ROOT:-$(dirname "$0")/..}"
RUNS=${RUNS:-runs/cpu_goal_doorkey}
SRC=${SRC:-src}  # PYTHONPATH of the runs; PY: their python (.venv's; gpu_hard.sh's python3)
TASK=${TASK:-MiniGrid-DoorKey-5x5-v0}
STEPS=${STEPS:-200000}
# actor_n_step=1 pinned: every row of RESULTS.md before §28 ran 1-step actor targets (the
# default's are 3-step since 2026-12-02: EXTRA=--config.agent.actor_n_step=3 runs it); task_goal
# and actor_zero_head pinned off: every row before §29 ran without them (the default's since
# 2026-12-03: SETTINGS=achiever_task EXTRA=--config.agent.actor_n_step=3 runs today's default)
base="--config.num_seeds=5 --config.log_every=10000 --config.checkpoint_every=50000
  --config.env.name=$TASK --config.total_steps=$STEPS --config.pictures=False
  --config.agent.actor_n_step=1 --config.agent.task_goal=False --config.agent.actor_zero_head=False"
run=$base
if [ "${LEARNER:-goal}" = dqn ]; then
  run="$run --config.env.num_envs=8 --config.agent.learning_rate=2.5e-4
  --config.agent.epsilon_decay_steps=250000 --config.agent.actor_gamma=0.99"
fi
for setting in ${SETTINGS:-default note no_env}; do
  variant=archive; extra=""; learner=$run
  case $setting in
    achiever) variant=minigrid; learner=$base ;;  # the default has its own (DQN's) learner
    amigo) variant=minigrid; learner=$base; extra="--config.agent.goal_score=amigo" ;;
    achiever_zero) variant=minigrid; learner=$base
      extra="--config.agent.achiever=False --config.agent.goal_ablation=zero
        --config.agent.explore_steps=0 --config.agent.explore_first=False
        --config.agent.skip_reached_rows=False --config.agent.goal_counts=True" ;;
    achiever_task|achiever_task_q|achiever_task_q_noise|achiever_task_q_reach|achiever_task_q_top)
      variant=minigrid
      learner=$base; extra="--config.agent.task_goal=True --config.agent.actor_zero_head=True"
      [ $setting != achiever_task ] && extra="$extra --config.agent.task_score=goal_q"
      [ $setting = achiever_task_q_noise ] && extra="$extra --config.agent.goal_ablation=noise"
      [ $setting = achiever_task_q_reach ] && extra="$extra
        --config.agent.goal_reach_steps=${REACH_STEPS:-10}"
      [ $setting = achiever_task_q_top ] && extra="$extra
        --config.agent.goal_reach_top=${REACH_TOP:-4}" ;;
    achiever_epi) variant=minigrid; learner=$base
      extra="--config.agent.optimism.action_coef=0.0 --config.agent.optimism.bootstrap_coef=0.0
        --config.agent.optimism.episode_coef=0.01 --config.agent.epsilon_decay_steps=250000" ;;
    default) ;;
    note) variant=note ;;
    no_env) extra="--config.agent.actor_env_reward=0.0" ;;
    zero) extra="--config.agent.goal_ablation=zero" ;;
    random) extra="--config.agent.goal_ablation=random" ;;
    reach) extra="--config.agent.goal_reach_steps=20" ;;
    episode) extra="--config.agent.archive_scope=episode" ;;
    obs_zero) extra="--config.agent.actor_input=observation --config.agent.goal_ablation=zero" ;;
    obs_episode)
      extra="--config.agent.actor_input=observation --config.agent.archive_scope=episode" ;;
    obs_taskw) extra="--config.agent.actor_input=observation --config.agent.archive_scope=episode
      --config.agent.actor_env_reward=10.0" ;;
    obs_exploit)
      extra="--config.agent.actor_input=observation --config.agent.archive_scope=episode
      --config.agent.exploit_fraction=0.5 --config.agent.task_fraction=0.5" ;;
    counts_e50|counts_e50_zero|counts_e50_episode|counts_e50_task|counts_e50_zero_l1|\
      counts_e50_rt*|counts_e50_task0)
      extra="--config.agent.optimism.action_coef=0.1 --config.agent.optimism.bootstrap_coef=0.01
      --config.agent.epsilon_decay_steps=50000"
      [ $setting = counts_e50_zero ] && extra="$extra --config.agent.goal_ablation=zero"
      [ $setting = counts_e50_zero_l1 ] && extra="$extra --config.agent.goal_ablation=zero
        --config.agent.actor_layers=(256,)"
      [ $setting = counts_e50_episode ] && extra="$extra --config.agent.archive_scope=episode"
      case $setting in counts_e50_task*) extra="$extra --config.agent.archive_scope=episode
        --config.agent.task_goal=True --config.agent.task_fraction=0.25" ;; esac
      [ $setting = counts_e50_task0 ] && extra="$extra --config.agent.actor_zero_head=True
        --config.agent.task_her=False"
      case $setting in counts_e50_rt*) extra="$extra --config.agent.archive_scope=episode
        --config.agent.reach_test=cell --config.agent.explore_steps=40
        --config.agent.task_her=False" ;; esac
      case $setting in counts_e50_rte_ended|counts_e50_rte_first|counts_e50_rtf_*)
        extra="$extra --config.agent.explore_after=ended" ;; esac
      case $setting in counts_e50_rte_first|counts_e50_rtf_*)
        extra="$extra --config.agent.explore_first=True --config.agent.goal_counts=False" ;; esac
      [ $setting = counts_e50_rtf_h32 ] && extra="$extra --config.agent.horizon=32"
      case $setting in counts_e50_rtf_oracle|counts_e50_rtf_pos|counts_e50_rtf_ach*)
        extra="$extra --config.env.oracle_position=True" ;; esac
      case $setting in counts_e50_rtf_ach*) extra="$extra --config.agent.achiever=True" ;; esac
      case $setting in counts_e50_rtf_achg8) extra="$extra --config.agent.skip_reached_rows=True
        --config.agent.achiever_gamma=0.8" ;;
        counts_e50_rtf_achg*) extra="$extra --config.agent.skip_reached_rows=True
        --config.agent.achiever_gamma=0.9" ;; esac
      case $setting in counts_e50_rtf_achgp*)
        extra="${extra/reach_test=cell/reach_test=pose}" ;;
        counts_e50_rtf_achgd) extra="${extra/reach_test=cell/reach_test=distance}
        --config.agent.distance=learned --config.agent.distance_pairs=contrastive
        --config.agent.reach_threshold=1.0" ;; esac
      [ $setting = counts_e50_rtf_achg_amigo ] && extra="$extra --config.agent.goal_score=amigo"
      case $setting in counts_e50_rtf_achs*)
        extra="$extra --config.agent.skip_reached_rows=True" ;; esac
      case $setting in counts_e50_rtf_pos|counts_e50_rtf_ach_pos|counts_e50_rtf_achs_pos|\
        counts_e50_rtf_achg_pos|counts_e50_rtf_achgp_pos)
        extra="$extra --config.agent.actor_position=True" ;; esac ;;
    *) echo "unknown setting $setting"; exit 2 ;;
  esac
  # the minigrid default's goals of before 2026-12-04 pinned: every row before RESULTS §38 ran
  # them (since then the default's are §37's, which achiever_task_q with §37's EXTRA runs)
  # and its epsilon of before 2026-12-05 (over 50k; the default's is over 20k since, RESULTS §45:
  # add --config.agent.epsilon_decay_steps=20000 to EXTRA for it)
  [ $variant = minigrid ] && learner="$learner --config.agent.archive_scope=episode
    --config.agent.archive_cells=view --config.agent.task_score=actor
    --config.agent.goal_q_bootstrap=first --config.agent.goal_q_her=0.0
    --config.agent.epsilon_decay_steps=50000"
  mkdir -p "$RUNS/$setting"
  # shellcheck disable=SC2086
  PYTHONPATH=$SRC ${PY:-.venv/bin/python} -m goalrl.train --config=experiments/goal_agent.py:$variant \
    --workdir="$RUNS/$setting" $learner $extra ${EXTRA:-} > "$RUNS/$setting/train.log" 2>&1
  echo "$setting: exit $?"
done
