#!/usr/bin/env bash
# The exploration issue's hard-task rows that the CPU cannot afford, on a lent GPU, every run its
# own process at once (small networks leave the GPU mostly idle; RESULTS.md §9 ran 10 that way):
#   goal_kc   the default goal agent (exploration.py's goal_reach) on KeyCorridorS3R3, 1M (RESULTS
#             §15 ran the default until 2026-12-01, today's :archive; since then the achiever)
#   goal_mr   the same on MultiRoom-N4-S5, 1M
#   opiq_kc   optimistic DQN with epsilon over 50k (cpu_opiq_doorkey.sh's obs_opiq_e50) on
#             KeyCorridorS3R3, 1M: do the counts carry exploration there too?
#   opiq_mr   the same on MultiRoom-N4-S5 (not in the default JOBS="goal_kc goal_mr opiq_kc")
#   goalepi_mr the default goal agent with episodic novelty instead of OPIQ's counts
#             (cpu_goal_doorkey.sh's achiever_epi, whose goals are the default's of before
#             2026-12-04; these jobs take today's, RESULTS §38) on MultiRoom-N4-S5, 1M, against
#             optimistic DQN with the same episodic novelty (epi_mr: cpu_opiq_doorkey.sh's
#             obs_epi, 2.2 doors per episode at 1M, RESULTS §14): do goals add to the lever that
#             explores MultiRoom?
#   epi_mr    that optimistic DQN (obs_epi) on the GPU, beside it
#   noveld_mr / noveld_kc  optimistic DQN with NovelD's episodic reward instead (cpu_opiq_doorkey.sh's
#             obs_noveld, RESULTS §25) on MultiRoom-N4-S5 / KeyCorridorS3R3, 1M
#   goalnoveld_mr goalepi_mr with NovelD's reward on the actor (episode_novelty=noveld, coef 0.02)
#   (the goal* jobs below start from experiments/goal_agent.py:archive, the default until 2026-12-01)
#   goalc_kc  the goal agent with OPIQ's counts on its actor and this episode's goals
#             (cpu_goal_doorkey.sh's counts_e50_episode with LEARNER=dqn) on KeyCorridorS3R3, 1M
#   goalc0_kc the same with goals disabled (counts_e50_zero): do the goals add to the counts?
#   goalrte_kc Go-Explore's return-then-explore (cpu_goal_doorkey.sh's counts_e50_rte_ended):
#             goalc_kc with goals reached by archive cell, 40 steps on the task with the counts
#             after each goal's end, task rows off HER
#   goalrtf_kc goalrte_kc closer to Go-Explore (counts_e50_rte_first): each episode starts
#             exploring, goals pursued without the counts' action bonus
#   goalachg_kc goalrtf_kc with LEXA's achiever at its own discount 0.9, rows already at their goal
#             skipped (counts_e50_rtf_achg, RESULTS §19; with the oracle's goal geometry metrics)
#   goalamigo_kc goalachg_kc with the setter scoring goals by AMIGo's teacher (goal_score=amigo;
#             cpu_goal_doorkey.sh's counts_e50_rtf_achg_amigo, RESULTS §24)
#   goalrte_dk8 / goalc0_dk8 / goalrtf_dk8 / goalachg_dk8 / goalamigo_dk8  the _kc jobs on
#             DoorKey-8x8
#             (200k: STEPS=200000)
#   dk16_goal / dk16_zero / dk16_noise / dk16_reach  DoorKey-16x16 as RESULTS.md §31-§33 ran it
#             on the CPU (cpu_goal_doorkey.sh's achiever_task_q with its EXTRA, achiever_zero,
#             achiever_task_q_noise, achiever_task_q_top): goals acting, goals disabled, goal
#             phases acting at random, goals kept to the 4 of 32 the achiever values most (MEGA's
#             filter by rank; its cutoff kept nothing out, RESULTS.md §33)
#   dk16_sit / dk16_sit_noise  dk16_goal and dk16_noise with goals named by situation, drawn
#             among the whole run's (archive_cells=situation, archive_scope=run; RESULTS.md §37)
#   dk16_opiq / dk16_dqn  optimistic DQN (experiments/optimistic_dqn.py:minigrid, 3-step) and DQN
#             (experiments/dqn.py:minigrid with 3-step targets) on DoorKey-16x16 beside them
#             (JOBS="dk16_goal dk16_zero dk16_noise dk16_reach dk16_sit dk16_sit_noise dk16_opiq
#             dk16_dqn")
# Same configs, seeds (0-4, vmapped) and log interval as the CPU runs; a run stopped by RUN_S keeps
# its metrics up to its last log row. Brings back $OUT/hard_runs.tgz (metrics.jsonl, config.json,
# train.log); summarise here with
#   mkdir -p runs/gpu_hard && tar xzf hard_runs.tgz -C runs/gpu_hard
#   PYTHONPATH=src .venv/bin/python benchmarks/exploration.py --summary_only --merge \
#     --runs runs/gpu_hard/exploration --tasks KeyCorridorS3R3,MultiRoom-N4-S5 --agents goal_reach \
#     --steps 1000000 --out benchmarks/results/exploration_goal_1m
# Device tool, after `bash benchmarks/gpu_site.sh` here:
#   run(command="RUN_S=470 bash benchmarks/gpu_hard.sh", carry=[".gpu"], timeout_s=540)
# and (2026-12-01, the lease's last 6 minutes): run(command="JOBS=opiq_mr RUN_S=200 bash
# benchmarks/gpu_hard.sh", carry=[".gpu"], timeout_s=225)
# and (2026-12-04, RESULTS.md §39): JOBS="dk16_sit dk16_sit_noise dk16_zero dk16_opiq dk16_dqn
# goal_mr goal_kc" STEPS=1000000 RUN_S=480 got the goal agents to 150k-260k, DQN to 480k: seven
# at once share the machine's 16 cores (goal agents 450-650 env steps/s per seed); dk16_sit and
# dk16_sit_noise alone ran at 1.26k per seed (210k in 165 s after ~60 s of start and compiling).
# Run the goal agent's jobs two or three at a time.
# Here (smoke): OUT=/tmp/o STEPS=20000 RUN_S=120 SITE=none PY=.venv/bin/python bash benchmarks/gpu_hard.sh
set -u
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
OUT=${OUT:-/tmp/gpu_out}
RUNS=${RUNS_DIR:-/tmp/runs}
STEPS=${STEPS:-1000000}
PY=${PY:-python3}
mkdir -p "$OUT" "$RUNS"
if [ "${SITE:-gpu}" = gpu ]; then
  mkdir -p /tmp/site && tar xzf .gpu/site.tgz -C /tmp/site || exit 1
  export PYTHONPATH=$PWD/src:/tmp/site
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/device.txt"
else
  export PYTHONPATH=$PWD/src
fi
$PY -c "import jax, flax, optax, orbax.checkpoint as o; print('jax', jax.__version__, 'flax',
flax.__version__, 'optax', optax.__version__, 'orbax', o.__version__, jax.devices())" \
  | tee -a "$OUT/device.txt"
opt=--config.agent.optimism
for job in ${JOBS:-goal_kc goal_mr opiq_kc}; do
  case $job in
    goal_kc|goal_mr)
      task=$([ $job = goal_kc ] && echo KeyCorridorS3R3 || echo MultiRoom-N4-S5)
      timeout "${RUN_S:-480}" $PY benchmarks/exploration.py --runs "$RUNS/exploration" \
        --tasks "$task" --agents goal_reach --steps "$STEPS" --seeds 5 \
        --out "$RUNS/summary_$task" > "$RUNS/goal_$task.log" 2>&1 & ;;
    opiq_kc|opiq_mr)
      task=$([ $job = opiq_kc ] && echo KeyCorridorS3R3 || echo MultiRoom-N4-S5)
      mkdir -p "$RUNS/$job/obs_opiq_e50"
      # shellcheck disable=SC2086
      timeout "${RUN_S:-480}" $PY -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid \
        --workdir="$RUNS/$job/obs_opiq_e50" --config.num_seeds=5 --config.log_every=10000 \
        --config.checkpoint_every=250000 --config.env.name="MiniGrid-$task-v0" \
        --config.total_steps="$STEPS" --config.env.num_envs=8 --config.agent.n_step=1 \
        --config.agent.learning_rate=2.5e-4 --config.agent.epsilon_decay_steps=50000 \
        $opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01 \
        --config.agent.q_input=observation > "$RUNS/$job/obs_opiq_e50/train.log" 2>&1 & ;;
    goalepi_mr|goalnoveld_mr)
      epi="$opt.episode_coef=0.01"
      [ $job = goalnoveld_mr ] && epi="$opt.episode_coef=0.02 $opt.episode_novelty=noveld"
      mkdir -p "$RUNS/$job/goal"
      # shellcheck disable=SC2086
      timeout "${RUN_S:-480}" $PY -m goalrl.train --config=experiments/goal_agent.py:minigrid \
        --workdir="$RUNS/$job/goal" --config.num_seeds=5 --config.log_every=10000 \
        --config.checkpoint_every=250000 --config.env.name=MiniGrid-MultiRoom-N4-S5-v0 \
        --config.total_steps="$STEPS" --config.pictures=False $opt.action_coef=0.0 \
        $opt.bootstrap_coef=0.0 $epi --config.agent.epsilon_decay_steps=250000 \
        > "$RUNS/$job/goal/train.log" 2>&1 & ;;
    epi_mr|noveld_mr|noveld_kc)
      task=$([ $job = noveld_kc ] && echo KeyCorridorS3R3 || echo MultiRoom-N4-S5)
      epi="$opt.episode_coef=0.01" setting=obs_epi
      [ $job != epi_mr ] && epi="$opt.episode_coef=0.02 $opt.episode_novelty=noveld" setting=obs_noveld
      mkdir -p "$RUNS/$job/$setting"
      # shellcheck disable=SC2086
      timeout "${RUN_S:-480}" $PY -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid \
        --workdir="$RUNS/$job/$setting" --config.num_seeds=5 --config.log_every=10000 \
        --config.checkpoint_every=250000 --config.env.name="MiniGrid-$task-v0" \
        --config.total_steps="$STEPS" --config.env.num_envs=8 --config.agent.n_step=1 \
        --config.agent.learning_rate=2.5e-4 --config.agent.epsilon_decay_steps=250000 \
        $opt.ratio=0.0 $opt.action_coef=0.0 $opt.bootstrap_coef=0.0 $epi \
        --config.agent.q_input=observation > "$RUNS/$job/$setting/train.log" 2>&1 & ;;
    goalc_kc|goalc0_kc|goalrte_kc|goalrte_dk8|goalc0_dk8|goalrtf_kc|goalrtf_dk8|goalachg_kc|\
      goalachg_dk8|goalamigo_kc|goalamigo_dk8)
      task=$(case $job in *_dk8) echo DoorKey-8x8 ;; *) echo KeyCorridorS3R3 ;; esac)
      case $job in
        goalc_kc) goals=--config.agent.archive_scope=episode ;;
        goalc0_*) goals=--config.agent.goal_ablation=zero ;;
        goalrt*|goalachg*|goalamigo*) goals="--config.agent.archive_scope=episode --config.agent.reach_test=cell
          --config.agent.explore_steps=40 --config.agent.explore_after=ended
          --config.agent.task_her=False" ;;
      esac
      case $job in goalrtf_*|goalachg_*|goalamigo_*) goals="$goals --config.agent.explore_first=True
        --config.agent.goal_counts=False" ;; esac
      case $job in goalachg_*|goalamigo_*) goals="$goals --config.env.oracle_position=True
        --config.agent.achiever=True --config.agent.skip_reached_rows=True
        --config.agent.achiever_gamma=0.9" ;; esac
      case $job in goalamigo_*) goals="$goals --config.agent.goal_score=amigo" ;; esac
      mkdir -p "$RUNS/$job/goal"
      # shellcheck disable=SC2086
      timeout "${RUN_S:-480}" $PY -m goalrl.train --config=experiments/goal_agent.py:archive \
        --workdir="$RUNS/$job/goal" --config.num_seeds=5 --config.log_every=10000 \
        --config.checkpoint_every=250000 --config.env.name="MiniGrid-$task-v0" \
        --config.total_steps="$STEPS" --config.pictures=False --config.env.num_envs=8 \
        --config.agent.learning_rate=2.5e-4 --config.agent.actor_gamma=0.99 \
        --config.agent.epsilon_decay_steps=50000 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01 \
        $goals > "$RUNS/$job/goal/train.log" 2>&1 & ;;
    dk16_goal|dk16_zero|dk16_noise|dk16_reach|dk16_sit|dk16_sit_noise)
      setting=$(case $job in dk16_goal|dk16_sit) echo achiever_task_q ;;
        dk16_zero) echo achiever_zero ;; dk16_noise|dk16_sit_noise) echo achiever_task_q_noise ;;
        *) echo achiever_task_q_top ;; esac)
      extra="--config.agent.actor_n_step=3 --config.checkpoint_every=250000"
      [ $job != dk16_zero ] && extra="$extra --config.agent.goal_q_bootstrap=bootstrap_row
        --config.agent.goal_q_her=0.5"
      [ "${job#dk16_sit}" != $job ] && extra="$extra --config.agent.archive_scope=run
        --config.agent.archive_cells=situation"
      PY=$PY SRC=$PYTHONPATH TASK=MiniGrid-DoorKey-16x16-v0 STEPS=$STEPS RUNS=$RUNS/$job \
        SETTINGS=$setting EXTRA="$extra" timeout "${RUN_S:-480}" bash benchmarks/cpu_goal_doorkey.sh \
        > "$RUNS/$job.log" 2>&1 & ;;
    dk16_opiq|dk16_dqn)
      exp=$([ $job = dk16_opiq ] && echo optimistic_dqn || echo dqn)
      mkdir -p "$RUNS/$job/$exp"
      timeout "${RUN_S:-480}" $PY -m goalrl.train --config=experiments/$exp.py:minigrid \
        --workdir="$RUNS/$job/$exp" --config.num_seeds=5 --config.log_every=10000 \
        --config.checkpoint_every=250000 --config.env.name=MiniGrid-DoorKey-16x16-v0 \
        --config.total_steps="$STEPS" --config.agent.n_step=3 --config.pictures=False \
        > "$RUNS/$job/$exp/train.log" 2>&1 & ;;
    *) echo "unknown job $job (allowed: goal_kc goal_mr opiq_kc opiq_mr goalc_kc goalc0_kc goalrte_kc
      goalrte_dk8 goalc0_dk8 goalrtf_kc goalrtf_dk8 goalachg_kc goalachg_dk8 goalamigo_kc
      goalamigo_dk8 goalepi_mr epi_mr noveld_mr noveld_kc goalnoveld_mr dk16_goal dk16_zero
      dk16_noise dk16_reach dk16_sit dk16_sit_noise dk16_opiq dk16_dqn)"
      exit 2 ;;
  esac
done
wait
# RUN_S's SIGTERM reaches every trainer (timeout signals its process group): each ends after its
# current chunk and saves a checkpoint there, so a second call on the still-warm machine resumes.
# The wrappers exit at once, the trainers may not: give them up to 90 s (seven at once took
# ~25 s a chunk, 2026-12-04; killed mid-save, two runs restarted from 0 in the next call), then
# SIGKILL what is left (metrics are written row by row; only runs whose workdir is under $RUNS, so
# a smoke test here leaves other runs alone)
for _ in $(seq 90); do pgrep -f "goalrl.train.*--workdir=$RUNS/" >/dev/null || break; sleep 1; done
pkill -9 -f "goalrl.train.*--workdir=$RUNS/"; sleep 1
for log in "$RUNS"/goal_*.log "$RUNS"/goal[a-z]*/goal/train.log "$RUNS"/*/obs_*/train.log \
    "$RUNS"/dk16_*/*/train.log; do
  echo "== $log"; grep -v "^WARNING" "$log" | tail -3
done
find "$RUNS" -name metrics.jsonl | sort | while read -r f; do
  echo "$f: last $(tail -1 "$f" | grep -o '"step": [0-9]*')"
done
cd "$RUNS" && find . \( -name metrics.jsonl -o -name config.json -o -name train.log \
  -o -name code.json \) -print0 | tar czf "$OUT/hard_runs.tgz" --null -T -
ls -la "$OUT"
