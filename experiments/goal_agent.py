"""The goal agent (the note's design): autoencoder latents, Q(s, g) on environment reward, a goal
setter keeping the best of K candidates, a goal-conditioned actor.

Variants (``--config=experiments/goal_agent.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, ``reach`` goals with HER, goals
  from the archive of reached states, an actor reading the observation.
  ``python -m goalrl.train --config=experiments/goal_agent.py:minigrid --workdir=runs/goal``
  Expect success 0.9 at 60k-90k env steps (5 of 5 seeds, RESULTS.md §11; 5 vmapped seeds x 100k
  took 9 min on 2 CPU cores); with the latent actor (``--config.agent.actor_input=latent``, the
  default until 2026-11-30) at 90k-110k, and with ``--config.agent.goal_ablation=zero`` (no goals)
  at 40k-50k (§10), so the goals do not yet help. Watch
  ``goals_reached_per_episode`` against ``goals_abandoned_per_episode`` (a setter stuck on
  unreachable goals shows up there) next to ``success_rate``. On DoorKey-8x8
  (``--config.env.name=MiniGrid-DoorKey-8x8-v0``) the latent actor fails: 0 of 5 seeds at 200k,
  its rare goals being views of other layouts (RESULTS.md §10). With DQN's learner there
  (``LEARNER=dqn`` in ``benchmarks/cpu_goal_doorkey.sh``) the latent actor is the bottleneck: with
  goals disabled it stays near 0.2, and reading the observation (``actor_input=observation``) it
  learns at about DQN's pace; goals from the current episode (``archive_scope=episode``) are
  reached but take the agent off the task (RESULTS.md §11); exploit envs
  (``exploit_fraction``) or a task reward weighted 10x did not make them give way by 80k (§12).
* ``note``: ``minigrid`` with the note's design (``goalrl.config.GOAL_NOTE_DESIGN``, commit
  81aed7c): candidates half from N(0, I), half from recently encoded states; 10% synthetic
  optimistic goals (reward 0.5, terminal); goals abandoned when Q(s, g) < 0.02; an actor rewarded
  by its goals only. Measured on DoorKey-5x5 against the default in RESULTS.md.
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: smoke run of the whole pipeline, seconds.
* ``atari``: MontezumaRevenge-v5, the autoencoder on the Nature-DQN strides (as
  ``experiments/optimistic_dqn.py:atari``); GPU-sized (see ``experiments/dqn.py`` for CPU smoke
  overrides).
* ``atari_note``: ``atari`` with the note's encoder settings exactly (stride-1 8x8 convolutions,
  batch 128, lr 1e-6).

The default (since 2026-11-30) departs from the note where the exploration issue's review found
it stuck: goal candidates are real reached states from an archive of observation cells
(``goalrl.archive``), drawn with probability ``(visits + 1)^-0.5`` and scored by Q(s, g) plus a
novelty ``0.1 / sqrt(visits + 1)`` that fades as the goal's cell is visited; no synthetic goals;
goals are abandoned only by age; the actor's reward adds the environment's reward.

Key knobs: ``agent.variant`` (progress | reach), ``agent.num_candidates``,
``agent.candidate_source`` (archive | prior | replay | both), ``agent.archive_bits``,
``agent.archive_power``, ``agent.goal_novelty_coef`` (0 = off), ``agent.goal_reach_steps`` (MEGA's
reachability filter: only goals the actor values >= ``actor_gamma ** steps``; 0 = off),
``agent.archive_scope`` (run | episode: each env's goals among the cells it visited this episode),
``agent.actor_input`` (latent, the note's | observation: the actor's own torso of width
``agent.hidden``), ``agent.actor_layers`` (the actor's dense layers before its head; DQN has
(256,)), ``agent.exploit_fraction`` (share of envs acting with the zero goal on the task
alone, NGU/Agent57's exploit member; 0 = off) with ``agent.task_fraction`` (share of the other
actor rows relabelled to the task), ``agent.task_goal`` (the setter weighs the task, valued by the
actor's max_a Q(s, 0, a), against its goals; False = off), ``agent.explore_steps`` (Go-Explore's
return-then-explore: after its goal is reached, or with ``agent.explore_after=ended`` also
abandoned, an env acts on the task for this many steps, then picks a goal again; 0 = off),
``agent.task_her`` (False: HER leaves task rows alone), ``agent.reach_test`` (distance | cell: a
goal is reached when the observation's archive cell is the goal's), ``agent.actor_env_reward`` (0 =
the note's actor), ``agent.reach_threshold``, ``agent.abandon_on_q`` with ``agent.abandon_threshold``,
``agent.max_goal_steps``, ``agent.her_fraction`` (0 = off),
``agent.distance`` (latent | learned), ``agent.goal_q_bootstrap`` (first, the note's | bootstrap_row:
goal-level bootstrapping, goals chain; not yet measured), ``agent.goal_q_her`` (Q(s, g) rows
relabelled with reached states; 0 = off, not yet measured), ``agent.goal_ablation`` (none | zero |
random), ``agent.optimism.*`` (the note's synthetic goals: ``.ratio``; OPIQ's counts on the actor:
``.action_coef`` / ``.bootstrap_coef``, 0 = off, the default), ``agent.encoder.*``.
"""
import ml_collections

from goalrl import config as config_lib
from goalrl.config import experiment, goal_agent_defaults

# MiniGrid's actor reads the observation (since 2026-11-30 evening): on DoorKey-5x5 it reaches 0.9
# at 60k-90k against the latent actor's 90k-110k, and with goals disabled on DoorKey-8x8 it learns
# at about DQN's pace where the latent actor stays near 0.2 (RESULTS.md §11).
OWN = {
    "minigrid": dict(updates_per_train=2, actor_input="observation"),
    "note": dict(updates_per_train=2),
    "quick": dict(bank_size=512, actor_input="observation"),
    "atari": dict(head_layers=(512, 512), actor_layers=(512, 512), reach_threshold=8.0),
    "atari_note": dict(head_layers=(512, 512), actor_layers=(512, 512), reach_threshold=8.0),
}
ENCODER = {"minigrid": {}, "note": {}, "quick": dict(stream_size=2_000, batch_size=32), "atari": {},
           "atari_note": {}}
SCALES = {"atari_note": config_lib.SCALES["atari"], "note": config_lib.SCALES["minigrid"]}


def agent(variant: str, learner: dict) -> ml_collections.ConfigDict:
  a = goal_agent_defaults(variant if variant.startswith("atari") else "minigrid",
                          **{**learner, **OWN[variant]})
  a.encoder.update(ENCODER[variant])
  if variant == "note":
    a.update(config_lib.GOAL_NOTE_DESIGN)
  return a


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  return experiment("experiments/goal_agent.py", variant, agent, SCALES)
