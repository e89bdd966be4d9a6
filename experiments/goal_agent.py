"""The goal agent (the note's design): autoencoder latents, Q(s, g) on environment reward, a goal
setter keeping the best of K candidates, a goal-conditioned actor.

Variants (``--config=experiments/goal_agent.py:<variant>``):

* ``minigrid`` (default since 2026-12-01): MiniGrid-DoorKey-5x5-v0, 400k env steps, 8 envs. Goals
  are situations reached in the run (since 2026-12-04; archive cells named by what the agent carries
  and what it faces, ``goalrl.envs.minigrid_situation``, which recur across layouts; before, views
  the env reached this episode), rarely visited ones preferred, scored by Q(s, g) plus a novelty
  that fades with visits, reached when the observation's situation is the goal's, and pursued by
  LEXA's achiever, a network of their own at discount 0.9 trained on hindsight goals from every row.
  Q(s, g) bootstraps with the goal in force at the bootstrap row and half its rows are relabelled
  with reached states. Each episode starts, and each goal ends, with 40 steps on the task, where the
  actor acts with OPIQ's counts (optimistic DQN's 0.1 / 0.01): Go-Explore's return, then explore.
  The actor learns the task from every row, on DQN's learner (Adam 2.5e-4, discount 0.99) with
  epsilon over 20k (since 2026-12-05; 50k before: the goal phases explore, so dithering can stop
  sooner, RESULTS.md §45) and, since 2026-12-02, 3-step targets (``actor_n_step``, as optimistic
  DQN's; ``ACHIEVER_DESIGN``). Since 2026-12-03 the task itself is one of the setter's candidates
  (``task_goal``) on an actor head that starts at 0 (``actor_zero_head``), scored since 2026-12-04
  by Q(s, 0) (``task_score=goal_q``, the environment's reward, the goals' scale; before, by the
  actor's ``max_a Q(s, 0, a)``, which holds its intrinsic reward and outbid every goal where the
  reward is rare): an env pursues goals while the task is worth less than their ``Q(s, g) +
  novelty``, so the goals give way by value, state by state. Since 2026-12-05 goals chosen and
  not reached fade (``archive_reach_power=1``: a cell's novelty times its goals' reach rate), so
  the setter leaves rare situations the achiever cannot reach (RESULTS.md §42-§43).
  ``python -m goalrl.train --config=experiments/goal_agent.py:minigrid --workdir=runs/goal``
  Measured with today's goals (RESULTS.md §37-§39, 5 vmapped seeds each): DoorKey-16x16 success
  per episode at 50k-100k 0.36 over ten seeds against goals disabled's 0.20 (P 0.86 [0.67, 0.98])
  and against the same goal phases acting at random (0.20), at 100k-150k 0.33 against 0.16 and
  0.22, at 200k-250k 0.41 against the random phases' 0.19 (P 0.95 [0.82, 1.00]; an H200 run of
  seeds 0-4 agrees); MultiRoom-N4-S5 doors per episode at 100k-150k 1.39 against optimistic
  DQN's 1.26; DoorKey-8x8 at 0.9 by IQM 73k, level with goals disabled (with epsilon over 20k,
  §45: 55k over ten seeds against goals disabled's 72k, P(sooner) 0.81 [0.62, 0.97]; the hard
  tasks not yet measured at 20k); DoorKey-5x5 at 0.9 by 20k in 5 of 5 seeds (at 20k too);
  KeyCorridorS3R3 key carried 0.67 at 100k, level with the default before.
  Before (§19-§21): DoorKey-5x5 at 0.9 success by 20k-30k env steps in 5 of 5 seeds (as
  optimistic DQN; ``archive`` at
  60k-90k); KeyCorridorS3R3 at 150k key carried 0.69 (``:archive`` at 1M: 0.04), level with goals
  disabled (0.70) and with optimistic DQN; DoorKey-8x8, where the reward is found at random and
  learning is the limit, 0.13 success at 90k against goals disabled's 0.38 with 1-step actor
  targets, with 3-step (§28) 0.9 in 5 of 5 seeds at IQM 100k against goals disabled's 73k (DQN's
  best 133k), and with the task as a candidate too (§29) 5 of 5 at IQM 70k: level with goals
  disabled, sooner than DQN (P 0.94 [0.72, 1.00]); the goals add no exploration there, and no longer
  cost it. Where the reward is rare, the actor's intrinsic reward (OPIQ's bootstrap bonus; episodic
  novelty with ``optimism.episode_coef``) lifts its task values above every goal: the task in every
  pick from 30k on KeyCorridorS3R3 (key carried 0.68 at 100k, level with optimistic DQN) and from
  20k on MultiRoom-N4-S5 (§29; ``task_score=goal_q`` keeps goals acting). Watch ``task_chosen``,
  ``goals_reached_per_episode`` against ``goals_abandoned_per_episode`` and ``task_share`` (the
  share of env steps on the task) next to ``success_rate``.
* ``archive``: the default until 2026-12-01: goals from the run-wide archive, held by the shared
  actor (``reach`` with HER, rewarded by the env too), reached by latent distance, no counts, the
  goal agent's own learner (16 envs, Adam 5e-4, epsilon over 100k, the actor's discount 0.9).
  Every ``benchmarks/cpu_goal_doorkey.sh`` setting but ``achiever`` starts from it. DoorKey-5x5:
  0.9 at 60k-90k (5 of 5 seeds, RESULTS.md §11); with goals disabled
  (``--config.agent.goal_ablation=zero``) at 40k-50k (§10). On DoorKey-8x8 its goals cost the
  task (§10-§11), and at 1M on KeyCorridorS3R3 and MultiRoom-N4-S5 it explores no better than DQN
  (§15).
* ``note``: ``archive`` with the note's design (``goalrl.config.GOAL_NOTE_DESIGN``, commit
  81aed7c): candidates half from N(0, I), half from recently encoded states; 10% synthetic
  optimistic goals (reward 0.5, terminal); goals abandoned when Q(s, g) < 0.02; an actor rewarded
  by its goals only. Measured on DoorKey-5x5 against the default in RESULTS.md.
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: smoke run of the whole pipeline, seconds.
* ``atari``: MontezumaRevenge-v5, the autoencoder on the Nature-DQN strides (as
  ``experiments/optimistic_dqn.py:atari``); GPU-sized (see ``experiments/dqn.py`` for CPU smoke
  overrides).
* ``atari_note``: ``atari`` with the note's encoder settings exactly (stride-1 8x8 convolutions,
  batch 128, lr 1e-6).

Both ``minigrid`` and ``archive`` depart from the note where the exploration issue's review found
it stuck (``archive`` since 2026-11-30): goal candidates are real reached states from an archive
of observation cells (``goalrl.archive``), drawn with probability ``(visits + 1)^-0.5`` and
scored by Q(s, g) plus a novelty ``0.1 / sqrt(visits + 1)`` that fades as the goal's cell is
visited; no synthetic goals; goals are abandoned only by age; the actor's reward adds the
environment's reward.

Key knobs: ``agent.variant`` (progress | reach), ``agent.num_candidates``,
``agent.candidate_source`` (archive | prior | replay | both), ``agent.archive_bits``,
``agent.archive_power``, ``agent.goal_novelty_coef`` (0 = off), ``agent.goal_reach_steps`` (MEGA's
reachability filter: only goals the actor values >= ``actor_gamma ** steps``; 0 = off),
``agent.goal_reach_top`` (the same by rank: only this many candidates, those it values most),
``agent.archive_scope`` (run | episode: each env's goals among the cells it visited this episode),
``agent.archive_cells`` (view | situation: cells by what the agent carries and faces, MiniGrid),
``agent.actor_input`` (latent, the note's | observation: the actor's own torso of width
``agent.hidden``), ``agent.actor_layers`` (the actor's dense layers before its head; DQN has
(256,)), ``agent.exploit_fraction`` (share of envs acting with the zero goal on the task
alone, NGU/Agent57's exploit member; 0 = off) with ``agent.task_fraction`` (share of the other
actor rows relabelled to the task), ``agent.task_goal`` (the setter weighs the task, valued by the
actor's max_a Q(s, 0, a), against its goals; False = off) with ``agent.task_score`` (actor |
goal_q: the task scored by Q(s, 0), on the goals' scale), ``agent.explore_steps`` (Go-Explore's
return-then-explore: after its goal is reached, or with ``agent.explore_after=ended`` also
abandoned, an env acts on the task for this many steps, then picks a goal again; 0 = off),
``agent.task_her`` (False: HER leaves task rows alone), ``agent.reach_test`` (distance | cell: a
goal is reached when the observation's archive cell is the goal's), ``agent.actor_env_reward`` (0 =
the note's actor), ``agent.reach_threshold``, ``agent.abandon_on_q`` with ``agent.abandon_threshold``,
``agent.max_goal_steps``, ``agent.her_fraction`` (0 = off), ``agent.archive_reach_power`` (> 0:
a goal's novelty times its cell's reach rate, so goals chosen and not reached fade; 0 = off),
``agent.goal_score`` (q, the note's | amigo: AMIGo's teacher, learned from whether goals were
reached in >= t* steps; ``agent.amigo_start``, ``agent.amigo_easy_count``, ``agent.amigo_records``),
``agent.distance`` (latent | learned), ``agent.goal_q_bootstrap`` (first, the note's | bootstrap_row:
goal-level bootstrapping, goals chain), ``agent.goal_q_her`` (Q(s, g) rows relabelled with
reached states; 0 = off; both together with ``task_score=goal_q`` on DoorKey-8x8: IQM 73k, level
with goals disabled, RESULTS.md §30), ``agent.goal_ablation`` (none | zero |
random), ``agent.optimism.*`` (the note's synthetic goals: ``.ratio``; OPIQ's counts on the actor:
``.action_coef`` / ``.bootstrap_coef``, 0 = off, the default), ``agent.encoder.*``.
"""
import ml_collections

from goalrl import config as config_lib
from goalrl.config import experiment, goal_agent_defaults

# MiniGrid's actor reads the observation (since 2026-11-30 evening): on DoorKey-5x5 it reaches 0.9
# at 60k-90k against the latent actor's 90k-110k, and with goals disabled on DoorKey-8x8 it learns
# at about DQN's pace where the latent actor stays near 0.2 (RESULTS.md §11).
MINIGRID = dict(updates_per_train=2, actor_input="observation")
OWN = {
    "minigrid": MINIGRID,
    "archive": MINIGRID,
    "note": dict(updates_per_train=2),
    "quick": dict(bank_size=512, actor_input="observation"),
    "atari": dict(head_layers=(512, 512), actor_layers=(512, 512), reach_threshold=8.0),
    "atari_note": dict(head_layers=(512, 512), actor_layers=(512, 512), reach_threshold=8.0),
}
ENCODER = {"minigrid": {}, "archive": {}, "note": {},
           "quick": dict(stream_size=2_000, batch_size=32), "atari": {}, "atari_note": {}}
# The MiniGrid default since 2026-12-01 (twelfth session), from ``archive`` (the default before):
# LEXA's achiever pursues goals, Go-Explore's explore phases act on the task with OPIQ's counts,
# on DQN's learner (experiments/dqn.py:minigrid: 8 envs, Adam 2.5e-4, the actor's discount 0.99)
# with optimistic DQN's epsilon over 50k. As measured in RESULTS.md §16-§21
# (benchmarks/cpu_goal_doorkey.sh's ``counts_e50_rtf_achg``, without its oracle diagnostics):
# KeyCorridorS3R3 @150k key carried 0.69 against ``archive``'s 0.04 at 1M (§15) and level with
# goals disabled (0.70); DoorKey-5x5 at 0.9 by 20k-30k in 5/5 seeds against ``archive``'s 60k-90k
# (§21); DoorKey-8x8 0.13 success @90k, behind goals disabled (0.38) and DQN (0.70): the goals
# still add no exploration there (§20).
ACHIEVER_DESIGN = dict(
    learning_rate=2.5e-4, actor_gamma=0.99,
    # since 2026-12-05 (RESULTS §45): epsilon over 20k, not optimistic DQN's 50k: the goal phases
    # explore, so dithering can stop sooner. DoorKey-8x8 at 0.9 by IQM 55k over ten seeds against
    # 73k at 50k; goals disabled gain nothing from it (DQN neither): the goals make the difference
    epsilon_decay_steps=20_000,
    optimism=dict(action_coef=0.1, bootstrap_coef=0.01),  # OPIQ's counts on the actor
    reach_test="cell",  # a goal is reached when the observation's archive cell is the goal's
    explore_steps=40, explore_after="ended", explore_first=True, goal_counts=False,
    task_her=False,  # explore 40 steps on the task at each episode's start and after each goal
    achiever=True, achiever_gamma=0.9, skip_reached_rows=True,  # goals pursued by the achiever
    actor_n_step=3,  # since 2026-12-02 (RESULTS §28): DoorKey-8x8 5/5, IQM 100k; 1-step 0/5 by 90k
    # since 2026-12-03 (RESULTS §29): the task is one of the setter's candidates, valued by the
    # actor's max_a Q(s, 0, a) on a head that starts at 0, so goals win while the task is
    # unknown and give way where the actor has learned it (DoorKey-8x8's goals no longer cost it)
    task_goal=True, actor_zero_head=True,
    # since 2026-12-04 (RESULTS §37-§38): goals are situations (what the agent carries and faces,
    # MiniGrid), drawn among the whole run's; the task scored by Q(s, 0), on the goals' scale, so
    # goals keep acting where the actor's intrinsic reward would outbid them; Q(s, g) bootstrapped
    # with the bootstrap row's goal and half its rows relabelled with reached states. DoorKey-16x16
    # success per episode @50k-100k 0.36 against goals disabled's 0.20, @100k-150k 0.33 against
    # 0.16 (ten seeds); DoorKey-5x5, DoorKey-8x8 and KeyCorridorS3R3 as the default before it
    archive_scope="run", archive_cells="situation", task_score="goal_q",
    goal_q_bootstrap="bootstrap_row", goal_q_her=0.5,
    # since 2026-12-05 (RESULTS §42-§43): goals chosen and not reached fade (a cell's novelty
    # times its goals' reach rate), so the setter leaves rare situations the achiever cannot
    # reach. Goals reached 3-100x as often; DoorKey-16x16 success per episode over ten seeds
    # @50k-100k 0.50 against 0.36 (P 0.81 [0.58, 1.00]), @100k-150k 0.47 against 0.33 (P 0.78
    # [0.56, 0.97]); KeyCorridorS3R3 doors @50k-100k 3.85 against 3.69 (P 0.96); DoorKey-8x8 IQM
    # 70k against 77k; DoorKey-5x5 20k in 5/5; MultiRoom-N4-S5 level to 80k
    archive_reach_power=1.0)
SCALES = {"atari_note": config_lib.SCALES["atari"], "note": config_lib.SCALES["minigrid"],
          "archive": config_lib.SCALES["minigrid"],
          "minigrid": {**config_lib.SCALES["minigrid"],  # DQN's 8 envs (experiments/dqn.py)
                       "env": {**config_lib.SCALES["minigrid"]["env"], "num_envs": 8}}}


def agent(variant: str, learner: dict) -> ml_collections.ConfigDict:
  a = goal_agent_defaults(variant if variant.startswith("atari") else "minigrid",
                          **{**learner, **OWN[variant]})
  a.encoder.update(ENCODER[variant])
  if variant == "note":
    a.update(config_lib.GOAL_NOTE_DESIGN)
  if variant == "minigrid":
    a.update(ACHIEVER_DESIGN)
  return a


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  return experiment("experiments/goal_agent.py", variant, agent, SCALES)
