"""The goal agent: encoder -> goal setter -> goal-conditioned actor (the research note's design,
with the exploration issue's changes as defaults; ``goalrl.config.GOAL_NOTE_DESIGN`` is the note's).

Learners (one optimiser over ``params = {goal_q, actor, distance}``; their losses are summed, and
as the parameter sets are disjoint each gets its own gradient; ``weight_reg`` adds the weight
regulariser of ``goalrl.regularisers`` over all three):

* ``goal_q``: Q(s, g) predicts the discounted *environment* return from latent state s while the
  agent pursues goal g. Trained by n-step TD on agent replay windows, the goal held along the
  window (the goal stored with the window's first row; with ``goal_q_bootstrap="bootstrap_row"``
  the bootstrap values the goal in force at the bootstrap row instead, so Q(s, g) is the value of
  pursuing g and then whatever goals follow: goals can chain). With ``goal_q_her`` > 0 that
  fraction of rows takes as goal a state reached later in the window (HER "future"), so states on
  the way to reward gain value as goals. The note's optimism (``optimism.ratio``
  > 0): a fraction of rows get a synthetic goal (``goalrl.optimism``) whose target is the
  optimistic reward. Conditioning on the current state keeps goals that are no longer reachable
  from looking valuable.
* ``actor``: goal-conditioned double Q-learning over discrete actions, 1-step, rewarded by
  ``goals.intrinsic_reward`` (``progress`` or ``reach``) plus ``actor_env_reward`` x the
  environment's reward (0: the note's actor, blind to the task), computed at training time from
  the current encoder so rewards follow the latent space as it changes; HER "future" relabelling.
  Where every actor row is the task's (the achiever below, or ``goal_ablation="zero"``),
  ``actor_n_step`` > 1 makes its target n-step, as optimistic DQN's (``replay.transitions`` over
  ``actor_env_reward`` x the env's reward plus the rows' episodic novelty, cut at the episode's
  end, OPIQ's bootstrap bonus at the bootstrap row; 3-step targets lifted optimistic DQN on
  DoorKey-8x8 from 123k to 73k env steps, RESULTS.md §27). The rows' actions are the achiever's
  in goal phases and epsilon's in explore phases: the n-step return is off-policy and
  uncorrected, as DQN's. A goal row's reach reward and its stop at the goal stay 1-step.
* ``distance`` (when ``distance="learned"``): regresses the number of steps between two states of
  one episode (rows ``j0`` and ``j0 + k`` of a window); then replaces latent distance in the
  actor's reward and the "reached" test. Trained on those pairs alone (``distance_pairs=
  "positive"``, as measured) it never sees a state paired with itself or with an unrelated one,
  so its value there is arbitrary; ``"contrastive"`` (the issue's "temporal distance trained with
  negative pairs") adds, in equal parts, each state with itself (0 steps) and with another
  window's later state (``2 * horizon`` steps: farther than any pair it counts), so a threshold
  under 1 reads "this very state, as far as steps can tell", whatever else changed in the view.

Goal candidates (``candidate_source``):

* ``archive`` (default): states the agent reached, from ``goalrl.archive`` (cells of observations
  with visit counts, pointing into the replay), rarely visited cells drawn more often; the setter
  keeps the best of ``Q(s, g) + goal_novelty_coef / sqrt(visits(g) + 1)``, an optimism that fades
  as the goal's cell is visited. With ``archive_scope="episode"`` each env draws only among the
  cells it visited in its current episode (lifelong counts still weigh them): on tasks with a new
  layout every episode, the rarest views of this layout, which it can reach again. A goal is the
  state it came from: each row stores its goal's cell, and acting and training re-encode that
  cell's observation with the current encoder (the stored latent only where the cell's replay row
  was overwritten). Before anything is archived, goals are N(0, I) draws.
* ``prior`` / ``replay`` / ``both`` (the note's): N(0, I) draws, a bank of recently encoded real
  states, or half each; goals are the latents stored at acting time.

The actor's state (``actor_input``): the latent, as the note has it, or the observation (the
MiniGrid experiments' default) read by the actor's own torso (``networks.GoalConditionedQ``, DQN's
torso of width ``hidden``), trained end to end by the actor's loss; the goal stays a latent. With
goals disabled, the latent actor learns DoorKey-8x8 far slower than DQN and the observation actor
at about DQN's pace (RESULTS.md §11): the fixed latent, not the goals, limits it there. Then
``actor_layers`` dense layers (two of 256 by default, as the note's ``head_layers``; DQN's network
has one) and the action head. With OPIQ's counts and goals disabled on DoorKey-8x8, one layer did
no better than two (RESULTS.md §16).

Reachable goals (``goal_reach_steps`` > 0, MEGA's filter): the setter keeps only candidates whose
value to the actor, ``max_a Q_actor(s, g, a)``, is at least ``actor_gamma ** goal_reach_steps``
(the value of a goal reached in that many steps: the actor's reward is 1 on reaching), and where no
candidate passes, the one the actor values most. On tasks that draw a new layout each episode the
archive's rarest cells are views of other layouts (RESULTS.md §10), which no policy can reach; on
DoorKey-8x8 the filter did not keep the setter off them by 50k env steps (§11).
``goal_reach_top`` > 0 filters by rank, instead or first: the setter keeps only the
``goal_reach_top`` candidates the actor (the achiever, where there is one) values most
(``goals.most_reachable_scores``), since hindsight-trained values can pass every candidate over a
cutoff (RESULTS.md §33).

Exploit mode (``exploit_fraction`` > 0, NGU/Agent57's exploit member of a policy family): the
first ``round(exploit_fraction * num_envs)`` envs act with the zero goal (their goal set to zero,
no goal events counted) and so follow the actor's task policy, while the others pursue goals.
Their actor rows are *task rows*: zero goal, reward ``actor_env_reward`` x the environment's,
bootstrap cut only by termination, unless HER relabels them with a reached state. With
``task_fraction`` > 0 that share of the other rows is relabelled to the task as well, so the task
policy learns off-policy from what the explorers found. Goals then pay for exploration without
outbidding the task on the envs that exploit (goals reached per episode are worth 1 each, the task
< 1 once per episode: RESULTS.md §11). The exploit envs' rows store the zero goal, so Q(s, 0) is
the value of the task policy. The exploit envs' own success rate is the log row's
``exploit_successes_per_episode / exploit_episodes_per_episode``. Measured on DoorKey-8x8 (half
the envs, ``task_fraction`` 0.5): it did not help by 80k env steps, the exploit envs learning
slower than the goals-disabled agent (RESULTS.md §12).

The task as a candidate (``task_goal``): the setter also weighs the task itself, the zero goal,
scored by the actor's value of it, ``max_a Q_actor(s, 0, a)``, against the goals' ``Q(s, g) +
novelty``. An env that picks it acts on the task (its rows stored as exploit rows, no goal events)
until it picks again: at its episode's start or after ``max_goal_steps`` steps. Before any reward
the task is worth ~0 and goals win; as the actor learns the task (from its own rows, and with
``task_fraction`` > 0 from the explorers' too) and the goals' novelty fades with visits, the task
wins where the actor knows the way: the goals give way by value, state by state (the exploit
envs above give way by a fixed share). Logged as ``task_chosen`` (the share of choices). Measured
on DoorKey-8x8 (RESULTS.md §16): the task won nearly every pick from the start (an untrained
actor's largest Q(s, 0, a) already outbids a goal's novelty, at most ``goal_novelty_coef``; the
first rewards, by 10k there, do the rest), and with HER relabelling half of the task rows to goals
the agent learned slower than with goals disabled by 40k. Off in the agent defaults;
``actor_zero_head`` (every Q(s, g, a) starts at 0, so the untrained task is worth 0 and a goal's
novelty wins) and
``task_her=False`` make it a test of the idea: with both, goals won the first picks and the task
every pick from 20k on DoorKey-8x8, and the agent still learned slower than with goals disabled
(0/5 seeds at 0.9 by 160k, RESULTS.md §17). With the actor's 3-step targets (``actor_n_step``)
both became ``experiments/goal_agent.py:minigrid``'s default (2026-12-03, §29): DoorKey-8x8 in
5/5 seeds at IQM 70k, level with goals disabled; the task's value includes the actor's intrinsic
reward (novelty, OPIQ's bootstrap bonus) and a goal's does not, so where that reward is large the
task wins every pick (MultiRoom-N4-S5 with episodic novelty: from 20k). ``task_score="goal_q"``
scores the task on the goals' scale instead: ``Q(s, 0)``, the goal-level value of the zero goal
(the task rows store it), on the environment's reward alone; the task then wins only where its
environment value beats a goal's value plus that goal's novelty.

Return then explore (``explore_steps`` > 0, Go-Explore's): an env whose goal is reached (with
``explore_after="ended"``: reached or abandoned) acts on the task from there, its goal the zero
goal and its rows task rows, until its age reaches ``explore_steps`` (counted as a goal's
``max_goal_steps``) or its episode ends; then it picks a goal again (``explore_first``: each
episode also starts with an explore phase, so its first goal is drawn among views of the layout
it is in, not, as otherwise, before it has any). With OPIQ's counts on the actor
(below) the explore phase is optimistic DQN's behaviour, from the place the goal led to: with
``archive_scope="episode"`` the goals are this episode's rarest views (by lifelong visits), the
frontier of the layout the env is in, so goals carry the agent back to the frontier and the counts
push past it, instead of goals holding it on views already seen (RESULTS.md §15-§16). With
``task_her=False`` HER leaves task rows alone, so the task learns from every step taken on it.
Measured on DoorKey-8x8 (``explore_after="ended"``, 40 steps, goals by cell; RESULTS.md §17): 0.14
success at 70k against 0.41 with goals disabled; the goal phases pull the key-carrier from the
door. On KeyCorridorS3R3 with ``explore_first`` and ``goal_counts=False`` (§18): key carried 0.27
at 60k against 0.63 with goals disabled; the greedy actor reaches 5% of its goals, fewer than the
early near-random walk's 19%. Off by default.

Reaching by cell (``reach_test="cell"``): an archive goal is reached when the observation's
archive cell (``goalrl.counts``' hash of the observation, exact on MiniGrid) is the goal's, as
Go-Explore's cells, at acting and at training time (a HER goal: its own state's cell); goals with
no cell (prior draws before anything is archived) fall back to ``reach_threshold``. Latent
distances are uncalibrated (unrelated views ~8 apart, the threshold 2, goals reached 0.3 times per
episode on KeyCorridorS3R3, §16); a cell is the goal's own view or not, whatever the encoder does.
Reaching by pose (``reach_test="pose"``, an oracle: MiniGrid with ``env.oracle_position``): the
goal is reached where the agent stands at the goal's true cell and heading, whatever else changed
in the view (a door opened, an object carried): the share of goals lost to a world that moved on
(RESULTS.md §20: 0.42 of the goals reached at 30k on KeyCorridorS3R3 against 0.25 by cell, and no
more exploration for it).

Cells by situation (``archive_cells="situation"``, MiniGrid): the archive's cells, the goals' and
the reach test's, are the agent's situation (``envs.minigrid_situation``: what it carries and what
it faces, a door's state included, colours left out) instead of its view. A view names one place
of one layout, so a goal from another episode is almost never reached (RESULTS.md §35); a
situation recurs in every layout ("facing the locked door, holding the key"), so with
``archive_scope="run"`` the setter can pick one this episode has not had yet, rarest first, scored
by Q(s, g) as always, and the achiever, taught by HER in every episode, can learn to reach it
anywhere. A cell's observation is its latest visit's view, so a held goal's latent is the newest
view of its situation (any layout); "reached" reads the situation alone. Off by default.

Goals that fail fade (``archive_reach_power`` > 0; ``goalrl.archive``'s outcomes): each cell counts
the goals taken from it and those of them reached, and the setter's novelty for a candidate is
multiplied by ``((reached + 1) / (chosen + 1)) ** power``. Visit counts alone keep a rare goal the
agent cannot reach the rarest forever: on MultiRoom-N4-S5 "facing the goal square" is seen 3-7
times in 300k steps, and from its first sighting (150k-210k) the setter takes it in every episode,
none is reached, and the doors opened stop rising (RESULTS.md §40). Off (0) in the library's
defaults; on (1) in ``experiments/goal_agent.py:minigrid`` since 2026-12-05 (RESULTS.md §42-§43).

Count optimism on the actor (``optimism.action_coef`` / ``bootstrap_coef`` > 0, OPIQ, as
optimistic DQN's default has it; ``goalrl.counts``): the actor acts on ``Q(s, g, a) +
action_coef / (N(s, a) + 1)^count_power`` and bootstraps its target on ``Q + bootstrap_coef
/ (...)`` at the bootstrap state (the next one, or the n-th with ``actor_n_step``), ``N`` counting (view, action) pairs whatever the goal. The goals then
steer an actor that already tries what it has tried least: the only count optimism that explored
KeyCorridorS3R3 and DoorKey-8x8 in goalrl (RESULTS.md §13-§14), while goals alone did not. Both 0
(the default) = off, exactly. Measured on DoorKey-8x8 with epsilon over 50k (§15): 0/5 seeds with
goals, 3/5 with goals disabled, against optimistic DQN's 5/5: not (yet) a working design. With
``goal_counts=False`` the action bonus acts only on envs acting on the task (explore phases, the
chosen task, exploit envs): a goal is pursued on ``Q(s, g, .)`` alone, as Go-Explore returns to
its cell without exploring on the way, and the counts explore from there.

Episodic novelty on the actor (``optimism.episode_coef`` > 0, NGU/E3B, as optimistic DQN has it;
``goalrl.counts.make_episodic``): ``act`` counts each env's view in its episode's table,
``observe`` stores ``episode_coef / sqrt(N_ep)`` (times ``1 / sqrt(N + 1)`` with
``episode_global``) in the row's ``bonus``, and the actor's reward adds it on every row, beside
``actor_env_reward`` x the env's; Q(s, g) still values the env's reward alone. With the achiever,
OPIQ's counts off and epsilon over 250k (``cpu_goal_doorkey.sh``'s ``achiever_epi``) the actor is
optimistic DQN's ``obs_epi`` learner, the one lever that explored MultiRoom-N4-S5 (RESULTS.md
§14): the test of whether goals add to it. ``optimism.episode_novelty="noveld"``: NovelD's reward
instead (``goalrl.counts``). Off (0) by default, exactly.

The achiever (``achiever``, LEXA's achiever beside its explorer): goals are pursued by a network
of their own, ``Q_ach(s, g, .)`` (the actor's architecture, its own weights and target), trained
by the same 1-step double Q-learning on the reach reward alone, on every row: goal rows keep their
goal or take a later state (HER), task rows always take a later state. The actor then acts only
on the task (explore phases, the chosen task, exploit envs) and learns it from every row with the
zero goal: with OPIQ's counts it is optimistic DQN's learner on all the data, and the goals no
longer share its head. ``skip_reached_rows``: rows whose own state already reaches their goal (a
HER goal that is this very view: 4 of MiniGrid's 7 actions often leave the view as it is) stay
out of the actor's and achiever's loss; acting never holds a goal it stands on (reached is tested
first), and such rows paid any action that keeps the view as it is.

AMIGo's teacher (``goal_score="amigo"``, ``goalrl.teacher``): the setter keeps the best of its
candidates by a teacher network ``T(s, g)`` (plus the goals' novelty) instead of ``Q(s, g)``.
Each goal that ends (reached, abandoned, or cut by its episode's end) is recorded as the archive
cell it was chosen at, its own cell, and AMIGo's label: +1 if reached in at least ``t*`` steps,
-0.3 otherwise, ``t*`` starting at ``amigo_start`` and rising as goals get easy. The teacher
regresses the labels of recorded goals, both cells re-encoded with the current encoder, so it
learns which goals from which states lie at the edge of what the achiever reaches: far, but
reached. The one goal signal of the exploration anchors that does not read visit counts or the
env's reward. Off (``"q"``) by default, exactly.

Oracles (MiniGrid, ``env.oracle_position``; no network reads the true pose unless asked): the
setter's goals get their true poses, and the act metrics say where goals lay at their choice
(``goal_grid_distance``, ``goal_in_view``), which were reached (``goals_reached_in_view`` /
``_out_of_view``, ``goal_grid_distance_reached``) and which were abandoned although the agent
stood at their pose (``goals_abandoned_at_pose``: the view there had changed). With
``actor_position`` the actor (and the achiever) also reads where its goal's true pose lies from
its own (steps ahead and to the right, the turn): the ceiling of reaching for a memoryless actor.
Measured on KeyCorridorS3R3 (RESULTS.md §19): goals lie 1.5 cells away, 70% in view; at the
actor's discount of 0.99 neither oracle nor achiever reached more goals than a random walk (the
action values differ by 1-2%); the achiever with ``achiever_gamma=0.9`` reached more as it turned
greedy (0.25 of its goals at 30k env steps, 0.39 with ``actor_position``).

Ablations (``goal_ablation``, to show what the goals do): ``zero``: the actor sees a zero goal and
earns the environment's reward only (DQN on latents with the actor's discount); ``random``: the
setter keeps a random candidate instead of the best by Q(s, g); ``noise``: everything runs as with
goals (setter, goal phases and their ages, the learners), but an env on a goal acts uniformly at
random instead of on the goal's Q(s, g, .): does a goal steer the agent, or does a goal phase
only take steps off the greedy task policy (as a temporally extended epsilon would)? It needs
steps on the task (``task_goal``, ``explore_steps`` or ``exploit_fraction``): else every step
would be random.

Acting: encode the observation, update the goal state machine (``goals.goal_events``; abandonment
by age, and with ``abandon_on_q`` by Q(s, g) under ``abandon_threshold``, the note's), pick new
goals by the goal setter where due, then epsilon-greedy on the actor's Q(s, g, .). The encoder
trains on its own reservoir stream, one step per update, seen by the other learners under
``stop_gradient`` unless ``encoder.agent_grads``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp

from goalrl import archive as archive_lib
from goalrl import counts as counts_lib
from goalrl import encoder as encoder_lib
from goalrl import envs, goals, losses, networks, optimism, regularisers, replay
from goalrl import teacher as teacher_lib
from goalrl.agents import latent
from goalrl.agents.base import Agent
from goalrl.agents.qlearning import Learner, make_core
from goalrl.envs import EnvSpec


# actor_position: the goal's offset from the agent, one-hot within +-this many cells each way
OFFSET_RANGE = 15


class GoalRow(NamedTuple):
  row: replay.Row
  goal: jnp.ndarray  # float32 [D]: the goal pursued when the row's action was taken
  # int32 []: that goal's archive cell (-1: not from the archive); None without the archive
  cell: Any = None
  # bool []: the row's env acted on the task (zero goal: an exploit env, or the task chosen by
  # the setter); None without exploit_fraction or task_goal
  exploit: Any = None
  # float32 []: the episodic novelty paid for arriving at the row's observation (optimism.
  # episode_coef > 0: the actor's reward beside the environment's); None otherwise
  bonus: Any = None


@flax.struct.dataclass
class GoalAgentState:
  encoder: encoder_lib.EncoderState
  learner: Learner  # online {"goal_q", "actor", "distance"}, target {"goal_q", "actor"}
  replay: Any
  bank: jnp.ndarray  # float32 [bank_size, D]: recently encoded real states
  bank_count: jnp.ndarray  # int32
  goal: jnp.ndarray  # float32 [N, D]
  goal_age: jnp.ndarray  # int32 [N]
  archive: Any = None  # archive.Archive with candidate_source="archive"; None otherwise
  goal_cell: Any = None  # int32 [N]: the archive cell of each env's goal (-1: none); ditto
  # int32 [N]: the archive step at which each env's episode began (archive_scope="episode" only)
  episode_start: Any = None
  # int32 [2**hash_bits, A]: visits of each (view, action), with optimism.action_coef or
  # bootstrap_coef > 0 (OPIQ's counts on the actor, or episode_global); None otherwise
  counts: Any = None
  # int32 [N, 2**episode_bits]: each env's visits of its episode's views (optimism.episode_coef)
  episode_counts: Any = None
  on_task: Any = None  # bool [N]: the env pursues the task, chosen by the setter (task_goal only)
  # Diagnostics with env.oracle_position and archive goals (None otherwise), int32 [N]: the true
  # pose (``cell * 4 + direction``, -1: unknown) of each env's goal, and the grid distance to its
  # cell when it was chosen (-1: unknown); bool [N]: that cell was in the agent's view then; the
  # agent has stood at the goal's pose since (whatever the view showed)
  goal_pose: Any = None
  goal_start_distance: Any = None
  goal_start_in_view: Any = None
  goal_pose_hit: Any = None
  # goal_score="amigo" (None otherwise): the teacher's records (teacher.Records), and the archive
  # cell of the observation where each env chose its goal (int32 [N], -1: none)
  records: Any = None
  goal_start: Any = None


def pair(z, g):
  return jnp.concatenate([z, g], axis=-1)


def bootstrap_goals(spec: EnvSpec, windows: GoalRow, n_step: int, current=None) -> jnp.ndarray:
  """[B, D]: the goal stored with each window's bootstrap row (``replay.bootstrap_row``), i.e.
  the goal in force when the agent acted from the state an n-step target bootstraps from.
  ``current(goal [B, D], cell [B])`` re-encodes it (:func:`current_goals`)."""
  rows = jax.vmap(lambda w: replay.bootstrap_row(spec, w, n_step))(windows.row)
  goal = jnp.take_along_axis(windows.goal, rows[:, None, None], axis=1)[:, 0]
  if current is None:
    return goal
  return current(goal, jnp.take_along_axis(windows.cell, rows[:, None], axis=1)[:, 0])


def pose_of(obs):
  """int32 [...]: the agent's true pose in MiniGrid observations with ``position``: its cell
  (``Signals.cell``) * 4 + its direction."""
  return obs["position"] * 4 + obs["direction"]


def offset_features(own, goal):
  """[..., 2 * (2 * OFFSET_RANGE + 1) + 4]: where pose ``goal`` lies from pose ``own`` (both
  :func:`pose_of` [...]), egocentric as the agent's view is: one-hot steps ahead and to the right
  (clipped to +-OFFSET_RANGE) and the turn from its heading to the goal's; zero where ``goal`` is
  -1 (none). Absolute one-hot cells of both (tried first) left the net to learn every pair of
  cells: no more goals reached by 20k env steps on KeyCorridorS3R3 (RESULTS §19)."""
  reach, span = OFFSET_RANGE, 2 * OFFSET_RANGE + 1
  ahead, right = envs.minigrid_view_offset(own // 4, own % 4, goal // 4)
  x = jnp.concatenate([jax.nn.one_hot(jnp.clip(ahead, -reach, reach) + reach, span),
                       jax.nn.one_hot(jnp.clip(right, -reach, reach) + reach, span),
                       jax.nn.one_hot((goal - own) % 4, 4)], axis=-1)
  return jnp.where((goal >= 0)[..., None], x, 0.0)


def archive_cell_of(cfg, spec: EnvSpec):
  """``obs [B, ...] -> int32 [B]``: the archive cell of each observation (its goal, its reach test):
  ``goalrl.counts``' hash of the view, or with ``archive_cells="situation"`` the agent's situation
  (``envs.minigrid_situation``)."""
  if cfg.get("archive_cells", "view") == "situation":
    return lambda obs: envs.minigrid_situation(obs["image"])
  return counts_lib.make_counter(spec, cfg.archive_bits).codes


def current_goals(encode, spec: EnvSpec, time_axis: int, archive, stored_rows: replay.Row,
                  goal: jnp.ndarray, cell: jnp.ndarray) -> jnp.ndarray:
  """Goals re-encoded with the current encoder: where a goal came from an archive cell whose
  pointer is still fresh, ``encode`` of the observation the cell names now (its own observation,
  or on Atari a SimHash neighbour of it: the cell's latest visit); elsewhere (a prior goal, a stale
  cell) the latent stored at acting time. ``goal`` [..., D], ``cell`` [...] int32."""
  ok = (cell >= 0) & archive_lib.fresh(archive, spec, time_axis)[jnp.maximum(cell, 0)]
  obs = archive_lib.observations(spec, stored_rows, archive, jnp.maximum(cell, 0).reshape(-1))
  z = encode(obs).reshape(goal.shape)
  return jnp.where(ok[..., None], z, goal)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent`` (see ``experiments/goal_agent.py``)."""
  ae = encoder_lib.make_autoencoder(cfg.encoder, spec)
  dim = cfg.encoder.latent
  goal_q_net = networks.MLP((*cfg.head_layers, 1), zero_head=True)
  obs_actor = cfg.get("actor_input", "latent") == "observation"
  # The actor's dense layers before its action head (a config without the key: head_layers).
  actor_layers = (*cfg.get("actor_layers", cfg.head_layers), spec.num_actions)
  zero_head = cfg.get("actor_zero_head", False)  # every Q(s, g, a) starts at 0
  actor_net = (networks.GoalConditionedQ(networks.make_torso(spec.kind, cfg.hidden), actor_layers,
                                         zero_head) if obs_actor
               else networks.MLP(actor_layers, zero_head))
  distance_net = networks.MLP((*cfg.head_layers, 1))
  amigo = cfg.get("goal_score", "q") == "amigo"  # the setter scores goals by AMIGo's teacher
  teacher_net = networks.MLP((*cfg.head_layers, 1), zero_head=True)
  core = make_core(cfg, spec, cfg.horizon, target_keys=("goal_q", "actor") + (
      ("achiever",) if cfg.get("achiever", False) else ()))
  j0 = spec.stack - 1
  use_archive = cfg.candidate_source == "archive"
  cell_of = archive_cell_of(cfg, spec) if use_archive else None
  time_axis = cfg.replay_size // spec.num_envs  # the replay's rows per env (replay.make_buffer)
  fresh = lambda archive, cells: (cells >= 0) & archive_lib.fresh(archive, spec, time_axis)[
      jnp.maximum(cells, 0)]  # bool [...]: archive cells ``cells`` name a stored observation
  novelty_coef = cfg.get("goal_novelty_coef", 0.0)
  reach_power = cfg.get("archive_reach_power", 0.0)  # > 0: unreached goals' novelty fades
  env_reward_weight = cfg.get("actor_env_reward", 0.0)
  abandon_threshold = cfg.abandon_threshold if cfg.get("abandon_on_q", True) else -jnp.inf
  ablation = cfg.get("goal_ablation", "none")
  her_q = cfg.get("goal_q_her", 0.0)
  actor_n = cfg.get("actor_n_step", 1)  # > 1: every actor row is the task's (validated)
  reach_steps = cfg.get("goal_reach_steps", 0)
  reach_top = cfg.get("goal_reach_top", 0)  # > 0: only this many most reachable candidates
  per_episode = use_archive and cfg.get("archive_scope", "run") == "episode"
  num_exploit = round(cfg.get("exploit_fraction", 0.0) * spec.num_envs)
  exploit = jnp.arange(spec.num_envs) < num_exploit  # [N]: the envs acting on the task alone
  task_goal = cfg.get("task_goal", False)
  task_score = cfg.get("task_score", "actor")  # the task's value: the actor's, or Q(s, 0)
  explore_steps = cfg.get("explore_steps", 0)  # Go-Explore's explore phase after a goal ends
  explore_on_abandon = cfg.get("explore_after", "reached") == "ended"
  explore_first = cfg.get("explore_first", False)  # episodes start with an explore phase
  goal_counts = cfg.get("goal_counts", True)  # False: the action bonus on task envs only
  switching = task_goal or explore_steps > 0  # envs move between goals and the task: on_task
  task_rows = bool(num_exploit) or switching  # rows say whether their env acted on the task
  task_her = cfg.get("task_her", True)
  by_cell = cfg.get("reach_test", "distance") == "cell"
  by_pose = cfg.get("reach_test", "distance") == "pose"  # an oracle (env.oracle_position)
  task_fraction = cfg.get("task_fraction", 0.0)
  opt = cfg.optimism
  action_coef, bootstrap_coef = opt.get("action_coef", 0.0), opt.get("bootstrap_coef", 0.0)
  episodic = opt.get("episode_coef", 0.0) > 0  # episodic novelty joins the actor's reward
  # the lifelong table: OPIQ's bonuses, or episodic novelty's global factor, or NovelD's novelty
  counting = action_coef > 0 or bootstrap_coef > 0 or counts_lib.reads_lifelong(opt)
  counter = (counts_lib.make_counter(spec, opt.hash_bits, opt.get("counts", "observation"))
             if counting or episodic else None)
  novelty = counts_lib.make_episodic(counter, opt)  # None without episodic novelty
  oracle = use_archive and spec.position  # the true cells of the agent and of its goals
  actor_position = cfg.get("actor_position", False)
  achiever = cfg.get("achiever", False)  # LEXA's: goals are pursued by a network of their own
  skip_reached = cfg.get("skip_reached_rows", False)
  # the discount of reaching goals: the achiever's own (0 = the actor's)
  reach_gamma = (cfg.get("achiever_gamma", 0.0) or cfg.actor_gamma) if achiever else cfg.actor_gamma

  def on_task(state):
    """[N]: the envs acting on the task now (exploit envs, and those whose setter chose it)."""
    return exploit | state.on_task if switching else exploit

  def count_bonus(table, obs, coef):
    """[N, A]: OPIQ's ``coef / (N(s, a) + 1)^count_power`` for the actor at ``obs`` (0 if off)."""
    if not coef:
      return 0.0
    return counts_lib.bonus(counter.counts(table, obs), coef, opt.count_power)

  def goal_q(params, z, g):
    return goal_q_net.apply(params["goal_q"], pair(z, g))[..., 0]

  def actor_q(actor_params, obs, z, g, g_pose=None):
    """The actor's Q(s, g, .): ``s`` is the latent ``z``, or the observation ``obs`` read by the
    actor's own torso (``actor_input="observation"``). ``g`` [N, ..., D] may hold several goals
    per state (``z`` broadcast to its shape). With ``actor_position`` the goal input also carries
    where the goal's true pose ``g_pose`` (int32 [N, ...], -1: none, as the task's zero goal) lies
    from the agent's own (:func:`offset_features`)."""
    if actor_position:
      own = pose_of(obs)
      own = jnp.broadcast_to(own.reshape(own.shape + (1,) * (g.ndim - 2)), g.shape[:-1])
      g = jnp.concatenate([g, offset_features(own, g_pose)], axis=-1)
    return actor_net.apply(actor_params, obs, g) if obs_actor else actor_net.apply(
        actor_params, pair(z, g))

  def cell_poses(archive, stored_rows, cell):
    """The true poses (:func:`pose_of`) of the observations archive cells ``cell`` [...] name;
    -1 where ``cell`` is -1 or its replay row was overwritten."""
    obs = archive_lib.observations(spec, stored_rows, archive, jnp.maximum(cell, 0))
    return jnp.where(fresh(archive, cell), pose_of(obs), -1)

  def teacher_score(params, z, g):
    """AMIGo's teacher T(s, g): the label (``goalrl.teacher``) a goal ``g`` chosen at ``s`` is
    expected to earn."""
    return teacher_net.apply(params["teacher"], pair(z, g))[..., 0]

  def distance(params, z, g):
    if cfg.distance == "learned":
      return distance_net.apply(params["distance"], pair(z, g))[..., 0]
    return goals.latent_distance(z, g)

  def encode(enc_params, obs, grads: bool = False):
    z = ae.encode(enc_params, obs)
    return z if grads and cfg.encoder.agent_grads else jax.lax.stop_gradient(z)

  def init(key) -> GoalAgentState:
    k_enc, k_q, k_actor, k_dist = jax.random.split(key, 4)
    x = jnp.zeros((1, 2 * dim))
    g_actor = jnp.zeros((1, dim + (2 * (2 * OFFSET_RANGE + 1) + 4 if actor_position else 0)))
    actor = (actor_net.init(k_actor, spec.zero_obs(1), g_actor) if obs_actor
             else actor_net.init(k_actor, x))
    params = {"goal_q": goal_q_net.init(k_q, x), "actor": actor,
              "distance": distance_net.init(k_dist, x)}
    if achiever:  # the same network as the actor's, its own weights
      k_ach = jax.random.fold_in(key, 7)
      params["achiever"] = (actor_net.init(k_ach, spec.zero_obs(1), g_actor) if obs_actor
                            else actor_net.init(k_ach, x))
    if amigo:
      params["teacher"] = teacher_net.init(jax.random.fold_in(key, 13), x)
    example = GoalRow(row=replay.example_row(spec), goal=jnp.zeros((dim,), jnp.float32),
                      cell=jnp.zeros((), jnp.int32) if use_archive else None,
                      exploit=jnp.zeros((), bool) if task_rows else None,
                      bonus=jnp.zeros((), jnp.float32) if episodic else None)
    n = spec.num_envs
    return GoalAgentState(
        encoder=ae.init(k_enc), learner=core.init(params), replay=core.buffer.init(example),
        bank=jnp.zeros((cfg.bank_size, dim), jnp.float32), bank_count=jnp.zeros((), jnp.int32),
        goal=jnp.zeros((n, dim), jnp.float32), goal_age=jnp.zeros((n,), jnp.int32),
        archive=archive_lib.init(cfg.archive_bits, reach_power > 0) if use_archive else None,
        goal_cell=jnp.full((n,), -1, jnp.int32) if use_archive else None,
        episode_start=jnp.zeros((n,), jnp.int32) if per_episode else None,
        counts=counter.init() if counting else None,
        episode_counts=novelty.init(n) if episodic else None,
        on_task=jnp.zeros((n,), bool) if switching else None,
        goal_pose=jnp.full((n,), -1, jnp.int32) if oracle else None,
        goal_start_distance=jnp.full((n,), -1, jnp.int32) if oracle else None,
        goal_start_in_view=jnp.zeros((n,), bool) if oracle else None,
        goal_pose_hit=jnp.zeros((n,), bool) if oracle else None,
        records=teacher_lib.init(cfg.amigo_records, cfg.amigo_start) if amigo else None,
        goal_start=jnp.full((n,), -1, jnp.int32) if amigo else None)

  def candidates(state: GoalAgentState, key, z):
    """``(cands [N, K, D], optimism [N, K], cells [N, K], count [N, K], pose [N, K])``: the
    setter's candidates, the novelty added to their Q, their archive cells, the cells' visits and
    their true poses (with ``env.oracle_position``; all three -1 where not from the archive)."""
    n, k = spec.num_envs, cfg.num_candidates
    none = jnp.full((n, k), -1)
    if not use_archive:
      cands = goals.candidates(key, n, k, state.bank, jnp.minimum(state.bank_count, cfg.bank_size),
                               cfg.candidate_source)
      return cands, jnp.zeros((n, k)), none, none, none
    k_draw, k_prior = jax.random.split(key)
    d = archive_lib.draw(state.archive, k_draw, spec, time_axis, n, k, cfg.archive_power,
                         state.episode_start)
    obs = archive_lib.observations(spec, state.replay.experience.row, state.archive, d.cells)
    real = ae.encode(state.encoder.params, jax.tree.map(lambda x: x.reshape(n * k, *x.shape[2:]),
                                                        obs)).reshape(n, k, dim)
    prior = jax.random.normal(k_prior, (n, k, dim))  # only before any state is archived
    cands = jnp.where(d.fresh[..., None], real, prior)
    optimism_k = jnp.where(d.fresh, archive_lib.novelty(d.count, novelty_coef), 0.0)
    if reach_power:  # the novelty of cells whose goals were chosen and not reached fades
      optimism_k = optimism_k * archive_lib.reach_rate(state.archive, d.cells, reach_power)
    pose = jnp.where(d.fresh, pose_of(obs), -1) if oracle else none
    return (cands, optimism_k, jnp.where(d.fresh, d.cells, -1),
            jnp.where(d.fresh, d.count, -1), pose)

  def act(state: GoalAgentState, ts, key, env_steps):
    # The note's setter split the key in two; the archive's (as measured, RESULTS.md §10) in three,
    # the third for the random-setter ablation. Both kept, so both designs give their numbers.
    k_cand, k_eps, k_pick = (jax.random.split(key, 3) if use_archive
                             else (*jax.random.split(key), jax.random.fold_in(key, 2)))
    n = spec.num_envs
    z = ae.encode(state.encoder.params, ts.obs)
    params = state.learner.online
    if per_episode:  # this step's visit (in observe) is written at the archive's current step
      state = state.replace(episode_start=jnp.where(ts.first, state.archive.step,
                                                    state.episode_start))
    goal_now = state.goal
    if use_archive:  # the goal's own observation, seen by today's encoder
      goal_now = current_goals(lambda o: ae.encode(state.encoder.params, o), spec, time_axis,
                               state.archive, state.replay.experience.row, state.goal,
                               state.goal_cell)
    d_now = distance(params, z, goal_now)  # to the goal held since the last step
    d_reach = d_now
    here = cell_of(ts.obs) if by_cell or amigo else None  # the observation's archive cell
    if by_cell:
      d_reach = goals.match_distance(d_now, here, state.goal_cell)
    if by_pose:  # the goal's true pose, set at its choice (goal_geometry)
      d_reach = goals.match_distance(d_now, pose_of(ts.obs), state.goal_pose)
    events = goals.goal_events(
        cfg.variant, ts.first, d_reach,
        goal_q(params, z, goal_now), state.goal_age, cfg.reach_threshold,
        abandon_threshold, cfg.max_goal_steps)
    cands, optimism_k, cell_k, count_k, pose_k = candidates(state, k_cand, z)
    z_k = jnp.broadcast_to(z[:, None], cands.shape)
    q_cands = goal_q(params, z_k, cands)
    t_cands = teacher_score(params, z_k, cands) if amigo else None
    scores = (t_cands if amigo else q_cands) + optimism_k
    if reach_steps or reach_top:  # only goals the actor expects to reach (MEGA's filter)
      reach_value = actor_q(params["achiever" if achiever else "actor"], ts.obs, z_k, cands,
                            pose_k).max(axis=-1)
      if reach_top:  # by rank: the reach_top candidates it values most
        scores = goals.most_reachable_scores(scores, reach_value, reach_top)
      if reach_steps:  # by value: those reached within reach_steps steps (of those, by rank)
        scores = goals.reachable_scores(scores, reach_value, reach_gamma ** reach_steps)
    pick = (jax.random.randint(k_pick, (n,), 0, cfg.num_candidates) if ablation == "random"
            else None)  # the ablated setter keeps any candidate, Q unread
    chosen, best = goals.select_goal(scores, cands, pick)
    chosen_q = jnp.take_along_axis(q_cands, best[:, None], axis=1)[:, 0]
    was_on_task = on_task(state)  # the mode this step's observation arrived in
    if task_rows:  # envs on the task: the zero goal, no goal events (task_goal: re-pick by age)
      events = events._replace(**{f: getattr(events, f) & ~was_on_task for f in
                                  ("reached", "abandoned")})
      if switching:  # the task (chosen, or an explore phase) ends at an episode's start or by age
        again = ts.first | (state.goal_age >= (explore_steps or cfg.max_goal_steps))
        events = events._replace(renew=jnp.where(was_on_task & ~exploit, again, events.renew))
        take_task = jnp.zeros((n,), bool)
        if task_goal:  # the setter's pick: the task where its score (task_score) beats every goal's
          task_value = (goal_q(params, z, jnp.zeros_like(z)) if task_score == "goal_q" else
                        actor_q(params["actor"], ts.obs, z, jnp.zeros_like(z),
                                jnp.full((n,), -1)).max(axis=-1))
          take_task = task_value > jnp.max(scores, axis=-1)
        if explore_steps:  # a goal ended (events of goal envs only): explore from where it is
          take_task = take_task | events.reached | (events.abandoned & explore_on_abandon)
          if explore_first:  # the episode's first goal waits for views of its own layout
            take_task = take_task | ts.first
        state = state.replace(on_task=jnp.where(events.renew, take_task, state.on_task))
      chosen = jnp.where(on_task(state)[:, None], 0.0, chosen)
    if amigo:  # what became of the goals that end now (before their cells are replaced)
      ended = ((events.reached | events.abandoned | (ts.first & ~was_on_task))
               & (state.goal_cell >= 0) & (state.goal_start >= 0))
      state = state.replace(records=teacher_lib.record(
          state.records, ended, state.goal_start, state.goal_cell, events.reached,
          state.goal_age + 1, cfg.amigo_easy_count, cfg.max_goal_steps))
    if use_archive:
      chosen_count = jnp.take_along_axis(count_k, best[:, None], axis=1)[:, 0]
      chosen_cell = jnp.where(on_task(state), -1,
                              jnp.take_along_axis(cell_k, best[:, None], axis=1)[:, 0])
      if reach_power:  # the held goals reached now, the goals chosen now (before goal_cell moves)
        state = state.replace(archive=archive_lib.record(
            state.archive, chosen_cell, events.renew, state.goal_cell, events.reached))
      state = state.replace(goal_cell=jnp.where(events.renew, chosen_cell, state.goal_cell))
      if amigo:  # where each new goal is chosen from
        state = state.replace(goal_start=jnp.where(
            events.renew, jnp.where(chosen_cell >= 0, here, -1), state.goal_start))
    goal = jnp.where(events.renew[:, None], chosen, goal_now)
    goal_age_then = state.goal_age
    age = jnp.where(events.renew, 0, state.goal_age + 1)
    slots = (state.bank_count + jnp.arange(n)) % cfg.bank_size
    state = state.replace(goal=goal, goal_age=age, bank=state.bank.at[slots].set(z),
                          bank_count=state.bank_count + n)
    seen = jnp.zeros_like(goal) if ablation == "zero" else goal
    seen_pose = None
    if actor_position:  # the goal's true pose (none: the task, the zero ablation, a prior goal)
      seen_pose = jnp.where(on_task(state) | (ablation == "zero"), -1, cell_poses(
          state.archive, state.replay.experience.row, state.goal_cell))
    bonus = count_bonus(state.counts, ts.obs, action_coef)
    if not goal_counts:  # goals are pursued on Q(s, g, .) alone; the counts explore on the task
      bonus = jnp.where(on_task(state)[:, None], bonus, 0.0)
    q_act = actor_q(params["actor"], ts.obs, z, seen, seen_pose)
    if achiever:  # envs on goals act on the achiever, envs on the task on the actor
      q_act = jnp.where(on_task(state)[:, None], q_act,
                        actor_q(params["achiever"], ts.obs, z, seen, seen_pose))
    q_act = q_act + bonus
    actions, eps_metrics = core.act(q_act, k_eps, env_steps)
    if ablation == "noise":  # envs on goals act at random: the phases stay, the goals steer none
      uniform = jax.random.randint(jax.random.fold_in(k_eps, 1), actions.shape, 0, q_act.shape[-1])
      actions = jnp.where(on_task(state), actions, uniform.astype(actions.dtype))
    renew = events.renew & ~on_task(state)  # goals chosen (not the task)
    metrics = {
        **eps_metrics,
        "sum/goals_reached": events.reached.sum().astype(jnp.float32),
        "sum/goals_abandoned": events.abandoned.sum().astype(jnp.float32),
        # means over the goals chosen in the log chunk (at choice), and over the steps a goal was
        # held (its distance then: reached when under reach_threshold)
        **losses.masked_metric("goal_q", chosen_q, renew),
        **losses.masked_metric("goal_distance", distance(params, z, chosen), renew),
        **losses.masked_metric("goal_distance_held", d_now, ~ts.first & ~was_on_task),
        # a reached goal's age when reached: 0 = on the step after its choice
        **losses.masked_metric("goal_age_reached", goal_age_then.astype(jnp.float32),
                               events.reached),
    }
    if amigo:  # t*, and the teacher's score of the goals chosen
      metrics["amigo_difficulty"] = state.records.difficulty.astype(jnp.float32)
      metrics.update(losses.masked_metric(
          "goal_teacher", jnp.take_along_axis(t_cands, best[:, None], axis=1)[:, 0], renew))
    if task_goal:
      metrics.update(losses.masked_metric("task_chosen", state.on_task.astype(jnp.float32),
                                          events.renew & ~exploit))
    if switching:  # the share of env steps acting on the task (chosen, or exploring)
      metrics["task_share"] = jnp.mean(on_task(state).astype(jnp.float32))
    if task_rows:  # the episodes this observation ends on the task
      metrics["sum/exploit_episodes"] = jnp.sum((ts.terminated | ts.truncated)
                                                & was_on_task).astype(jnp.float32)
      metrics["sum/exploit_successes"] = jnp.sum(
          ts.terminated & (ts.reward > 0) & was_on_task).astype(jnp.float32)
    if reach_steps:
      metrics.update(losses.masked_metric(
          "goal_reachable_fraction", (reach_value >= reach_gamma ** reach_steps).mean(axis=-1),
          renew))
    if reach_steps or reach_top:  # the chosen goal's reaching value, and how many beat it
      chosen_reach = jnp.take_along_axis(reach_value, best[:, None], axis=1)
      metrics.update(losses.masked_metric("goal_reach_value", chosen_reach[:, 0], renew))
      metrics.update(losses.masked_metric(
          "goal_reach_rank", jnp.sum(reach_value > chosen_reach, axis=-1).astype(jnp.float32),
          renew))
    if reach_power:  # the chosen goals' cells' reach rates (this step's choices counted)
      rate = archive_lib.reach_rate(state.archive, chosen_cell, 1.0)
      metrics.update(losses.masked_metric("goal_reach_rate", rate, renew & (chosen_cell >= 0)))
    if use_archive:
      metrics.update(losses.masked_metric("goal_cell_visits", chosen_count.astype(jnp.float32),
                                          renew & (chosen_count >= 0)))
      # env steps since the chosen cell's latest visit (a bound on how far the goal is)
      ago = state.archive.step - state.archive.written[jnp.maximum(chosen_cell, 0)]
      metrics.update(losses.masked_metric("goal_steps_ago", ago.astype(jnp.float32),
                                          renew & (chosen_cell >= 0)))
      metrics["archive_cells"] = jnp.sum(
          archive_lib.fresh(state.archive, spec, time_axis)).astype(jnp.float32)
    if oracle:  # where the goals lie on the true grid, and which of them are reached
      state, oracle_metrics = goal_geometry(state, ts.obs, pose_k, best, events, renew)
      metrics.update(oracle_metrics)
    if episodic:  # this observation's visit of its episode (the reward is paid in observe)
      state = state.replace(episode_counts=novelty.visit(state.episode_counts, ts.obs, ts.first,
                                                           state.counts))
      metrics["episode_bonus"] = jnp.mean(novelty.reward(state.episode_counts, state.counts,
                                                         ts.obs))
    return state, actions, metrics

  def goal_geometry(state, obs, pose_k, best, events, renew):
    """Diagnostics from the true poses (``env.oracle_position``): the grid distance from the agent
    to a goal chosen now (``renew``: goals, not the task), and whether its cell is in the agent's
    7x7 view; of the goals reached now, the distance they had when chosen; of the goals abandoned
    now, those whose pose the agent stood at while it held them (the view there was not the
    goal's: the world had changed, e.g. a door opened or a key taken).
    ``sum/goals_{chosen,reached}_{in_view,out_of_view}`` give the share of goals reached by
    where they lay at their choice."""
    pose = jnp.take_along_axis(pose_k, best[:, None], axis=1)[:, 0]
    known = renew & (pose >= 0)  # goals chosen now with a known pose
    here, facing = obs["position"], obs["direction"]
    dist = envs.minigrid_grid_distance(here, pose // 4)
    in_view = envs.minigrid_in_view(here, facing, pose // 4)
    was_known = events.reached & (state.goal_start_distance >= 0)
    was_in_view = state.goal_start_in_view
    hit = state.goal_pose_hit | ((pose_of(obs) == state.goal_pose) & (state.goal_pose >= 0))
    as_sum = lambda m: m.sum().astype(jnp.float32)
    metrics = {
        **losses.masked_metric("goal_grid_distance", dist.astype(jnp.float32), known),
        **losses.masked_metric("goal_in_view", in_view.astype(jnp.float32), known),
        **losses.masked_metric("goal_grid_distance_reached",
                               state.goal_start_distance.astype(jnp.float32), was_known),
        "sum/goals_chosen_in_view": as_sum(known & in_view),
        "sum/goals_chosen_out_of_view": as_sum(known & ~in_view),
        "sum/goals_reached_in_view": as_sum(was_known & was_in_view),
        "sum/goals_reached_out_of_view": as_sum(was_known & ~was_in_view),
        "sum/goals_abandoned_at_pose": as_sum(events.abandoned & hit),
    }
    state = state.replace(
        goal_pose=jnp.where(events.renew, jnp.where(known, pose, -1), state.goal_pose),
        goal_start_distance=jnp.where(events.renew, jnp.where(known, dist, -1),
                                      state.goal_start_distance),
        goal_start_in_view=jnp.where(events.renew, known & in_view, state.goal_start_in_view),
        goal_pose_hit=jnp.where(events.renew, False, hit))
    return state, metrics

  def losses_fn(params, enc_params, target, data, key):
    windows, archive, stored_rows, counts, *taught = data  # taught: goal_score="amigo"
    k_opt, k_her, k_off = jax.random.split(key, 3)
    rows = windows.row
    size = rows.action.shape[0]
    # Q(s, g): n-step TD on environment reward, goal held along the window, optimistic goals.
    head = jax.tree.map(lambda x: x[:, :spec.stack + cfg.n_step], rows)
    tr = replay.transitions(spec, head, cfg.gamma, cfg.n_step)
    z0 = encode(enc_params, tr.obs_tm1, grads=True)
    z_boot = encode(enc_params, tr.obs_t)
    # Goals are the states they came from, seen by today's encoder; only the rows a loss reads
    # are re-encoded (row j0 and the bootstrap row, not the window's T rows: observe measured
    # 27.0 -> 21.2 ms per loop iteration, benchmarks/step_parts.py, RESULTS §14).
    current = None
    if use_archive:
      current = lambda g, c: current_goals(lambda o: encode(enc_params, o), spec, time_axis,
                                           archive, stored_rows, g, c)
    g0 = windows.goal[:, j0] if current is None else current(windows.goal[:, j0],
                                                             windows.cell[:, j0])
    n_opt = optimism.num_synthetic(size, cfg.optimism.ratio)
    synthetic = optimism.synthetic_mask(size, n_opt)
    # States reached later in each window (HER "future"), for the actor and goal-Q relabelling.
    after = slice(j0 + 1, j0 + 1 + cfg.horizon)
    ended = rows.terminated[:, after] | rows.truncated[:, after]
    offsets = goals.future_offsets(k_off, ended)
    obs_at = jax.vmap(lambda w, j: replay.obs_at(spec, w, j))
    obs1 = obs_at(rows, jnp.full((size,), j0 + 1))
    z1 = encode(enc_params, obs1)
    obs_future = obs_at(rows, j0 + offsets)
    z_future = encode(enc_params, obs_future)
    goals_q = g0
    if n_opt:
      fake = optimism.synthetic_latents(k_opt, n_opt, z0, cfg.optimism.source, cfg.optimism.noise)
      goals_q = optimism.replace_rows(g0, fake, n_opt)
    relabelled_q = jnp.zeros((size,), bool)
    if her_q:  # the goal is a state the agent reached later: states on rewarded paths gain value
      relabelled_q = (jax.random.uniform(jax.random.fold_in(key, 1), (size,)) < her_q) & ~synthetic
      goals_q = jnp.where(relabelled_q[:, None], z_future, goals_q)
    q_pred = goal_q(params, z0, goals_q)
    goals_next = goals_q
    if cfg.get("goal_q_bootstrap", "first") == "bootstrap_row":
      held = synthetic | relabelled_q  # goals no stored row had: held to the bootstrap
      goals_next = jnp.where(held[:, None], goals_q, bootstrap_goals(spec, windows, cfg.n_step,
                                                                     current))
    q_next = goal_q(target, z_boot, goals_next)
    q_target = jnp.where(synthetic, cfg.optimism.reward, tr.r_t + tr.discount_t * q_next)
    q_valid = tr.valid | synthetic
    goal_q_loss = losses.masked_mean(losses.huber(jax.lax.stop_gradient(q_target) - q_pred,
                                           cfg.huber_delta), q_valid)

    def q_learning(net, goals_x, pose_x, reward, discount, bonus, skip=None, obs_next=obs1,
                   z_next=z1):
      """The goal-conditioned double Q-learning loss of network ``net`` ("actor" or "achiever")
      on goals ``goals_x`` [B, D] (true poses ``pose_x`` with actor_position), rows ``skip`` [B]
      left out: ``reward`` [B] and ``discount`` [B] lead from row j0 to ``obs_next`` (latent
      ``z_next``), row j0 + 1 (1-step) or the n-step bootstrap row."""
      q = actor_q(params[net], tr.obs_tm1, z0, goals_x, pose_x)
      q1 = actor_q(params[net], obs_next, z_next, goals_x, pose_x)
      q1_target = actor_q(target[net], obs_next, z_next, goals_x, pose_x)
      q1, q1_target = q1 + bonus, q1_target + bonus
      td = jax.vmap(losses.double_q_learning_td)(q, tr.a_tm1, reward, discount, q1_target, q1)
      valid = tr.valid if skip is None else tr.valid & ~skip
      return losses.masked_mean(losses.huber(td, cfg.huber_delta), valid)

    future_cells = cell_of(obs_future) if by_cell else None  # the HER goals' archive cells
    # The goals' true poses (actor_position, reach_test="pose"), read once: HER goals' own states',
    # stored goals' archive cells'.
    poses = ((pose_of(obs_future), cell_poses(archive, stored_rows, windows.cell[:, j0]))
             if actor_position or by_pose else None)

    def goal_poses(future):
      """[B]: the true pose of each row's goal, the reached state's where ``future``."""
      return jnp.where(future, *poses)

    def exact(d, obs, future):
      """``d`` [B] as the exact reach test reads it at ``obs`` (the goal's cell or true pose)."""
      if by_cell:  # a relabelled goal: its state's cell, else the stored goal's
        return goals.match_distance(d, cell_of(obs), jnp.where(future, future_cells,
                                                               windows.cell[:, j0]))
      if by_pose:
        return goals.match_distance(d, pose_of(obs), goal_poses(future))
      return d

    def reach_reward(goals_x, future):
      """(reward, reached) [B] of the step j0 -> j0 + 1 toward ``goals_x``; ``future`` [B]: the
      goal is row ``j0 + offsets``'s state (its cell, its pose), else the stored goal."""
      d1 = exact(distance(params, z1, goals_x), obs1, future)
      return goals.intrinsic_reward(cfg.variant, distance(params, z0, goals_x), d1,
                                    cfg.reach_threshold)

    def at_goal(goals_x, future):
      """bool [B]: row j0's own state already reaches the goal (``skip_reached_rows``)."""
      d0 = exact(distance(params, z0, goals_x), tr.obs_tm1, future)
      return jax.lax.stop_gradient(d0 < cfg.reach_threshold)

    # Actor: 1-step goal-conditioned double Q-learning, HER "future" relabelling.
    goals_a, relabelled = goals.relabel(k_her, g0, z_future, cfg.her_fraction)
    her_drawn = relabelled
    if task_rows and not task_her:  # task rows stay task rows
      relabelled = relabelled & ~windows.exploit[:, j0]
      goals_a = jnp.where(relabelled[:, None], z_future, g0)
    r_int, reached = reach_reward(goals_a, relabelled)
    if ablation == "zero":  # goals ablated: the actor sees none and earns the env's reward only
      goals_a, r_int, reached = jnp.zeros_like(goals_a), jnp.zeros_like(r_int), jnp.zeros_like(
          reached)
    task = jnp.zeros((size,), bool)  # task rows: the zero goal, the env's reward only
    if task_rows:
      task = windows.exploit[:, j0] & ~relabelled
    if task_fraction:
      task = task | (jax.random.uniform(jax.random.fold_in(key, 2), (size,)) < task_fraction)
    extra_losses = {}
    if achiever:  # goals belong to the achiever: the actor learns the task from every row, and
      # the achiever to reach from every row (a task row's goal: always a state reached later)
      her_h = her_drawn | windows.exploit[:, j0] if task_rows else her_drawn
      goals_h = jnp.where(her_h[:, None], z_future, g0)
      r_h, reached_h = jax.lax.stop_gradient(reach_reward(goals_h, her_h))
      skip_h = at_goal(goals_h, her_h) if skip_reached else None
      extra_losses["achiever_loss"] = q_learning(
          "achiever", goals_h, goal_poses(her_h) if actor_position else None, r_h,
          jnp.where(rows.terminated[:, j0 + 1] | reached_h, 0.0, reach_gamma), 0.0, skip_h)
      kept = tr.valid if skip_h is None else tr.valid & ~skip_h
      extra_losses["achiever_reward"] = losses.masked_mean(r_h, kept)
      task = jnp.ones((size,), bool)
    if task_rows or task_fraction:
      goals_a = jnp.where(task[:, None], 0.0, goals_a)
      r_int, reached = jnp.where(task, 0.0, r_int), reached & ~task
    r_int = r_int + env_reward_weight * rows.reward[:, j0 + 1]  # the actor sees the task
    if episodic:  # and its episodic novelty, on every row (as optimistic DQN's)
      r_int = r_int + windows.bonus[:, j0 + 1]
    r_int, reached = jax.lax.stop_gradient(r_int), jax.lax.stop_gradient(reached)
    stop = rows.terminated[:, j0 + 1] | reached
    pose_a = None
    if actor_position:  # the goal's true pose: the reached state's, the archive cell's, or none
      pose_a = jnp.where(task | (ablation == "zero"), -1, goal_poses(relabelled))
    skip_a = None
    if skip_reached:  # goal rows (not task rows) whose state stands on the goal already
      skip_a = at_goal(goals_a, relabelled) & ~task
      extra_losses["skipped_rows"] = jnp.mean(skip_a.astype(jnp.float32))
    # OPIQ's optimistic bootstrap: the next action is picked and valued by Q + the counts' bonus
    if actor_n == 1:
      actor_loss = q_learning("actor", goals_a, pose_a, r_int,
                              jnp.where(stop, 0.0, cfg.actor_gamma),
                              count_bonus(counts, obs1, bootstrap_coef), skip_a)
    else:  # every row is the task's (validated): optimistic DQN's n-step target, bonus included
      paid = env_reward_weight * rows.reward + (windows.bonus if episodic else 0.0)
      tr_a = replay.transitions(spec, jax.tree.map(lambda x: x[:, :spec.stack + actor_n],
                                                   rows._replace(reward=paid)),
                                cfg.actor_gamma, actor_n)
      actor_loss = q_learning("actor", goals_a, pose_a, jax.lax.stop_gradient(tr_a.r_t),
                              tr_a.discount_t, count_bonus(counts, tr_a.obs_t, bootstrap_coef),
                              skip_a, tr_a.obs_t, encode(enc_params, tr_a.obs_t))

    # Distance: steps between row j0 and a later row of the same episode (contrastive: and 0 to
    # itself, 2 * horizon to another window's later state).
    distance_metrics = {}
    if cfg.distance == "learned":
      d_pred = distance_net.apply(params["distance"], pair(z0, z_future))[..., 0]
      distance_loss = losses.masked_mean(losses.huber(offsets.astype(jnp.float32) - d_pred, 1.0),
                                  tr.valid)
      if cfg.get("distance_pairs", "positive") == "contrastive":
        d_self = distance_net.apply(params["distance"], pair(z0, z0))[..., 0]
        d_other = distance_net.apply(params["distance"], pair(
            z0, jnp.roll(z_future, 1, axis=0)))[..., 0]
        far = 2.0 * cfg.horizon
        distance_loss = (distance_loss + losses.masked_mean(losses.huber(d_self, 1.0), tr.valid)
                         + losses.masked_mean(losses.huber(far - d_other, 1.0), tr.valid)) / 3
        distance_metrics = {"distance_self": losses.masked_mean(d_self, tr.valid),
                            "distance_other": losses.masked_mean(d_other, tr.valid),
                            "distance_future": losses.masked_mean(d_pred, tr.valid)}
    else:
      distance_loss = jnp.zeros(())

    if amigo:  # the teacher regresses each recorded goal's label from its two cells, re-encoded
      start, goal_cells, label, written = taught[0]
      ok = written & fresh(archive, start) & fresh(archive, goal_cells)
      z_start = encode(enc_params, archive_lib.observations(spec, stored_rows, archive,
                                                            jnp.maximum(start, 0)))
      z_goal = encode(enc_params, archive_lib.observations(spec, stored_rows, archive,
                                                           jnp.maximum(goal_cells, 0)))
      predicted = teacher_score(params, z_start, z_goal)
      extra_losses["teacher_loss"] = losses.masked_mean(
          losses.huber(label - predicted, cfg.huber_delta), ok)
      extra_losses["teacher_label"] = losses.masked_mean(label, ok)
      extra_losses["teacher_rows"] = jnp.mean(ok.astype(jnp.float32))

    total = goal_q_loss + actor_loss + distance_loss + sum(
        v for k, v in extra_losses.items() if k.endswith("_loss"))
    return regularisers.regularise(total, {
        **extra_losses, **distance_metrics,
        "goal_q_loss": goal_q_loss, "actor_loss": actor_loss, "distance_loss": distance_loss,
        "goal_q_mean": losses.masked_mean(q_pred, tr.valid & ~synthetic),
        "goal_q_synthetic": losses.masked_mean(q_pred, synthetic),
        "intrinsic_reward": losses.masked_mean(r_int, tr.valid),
        "her_relabelled": jnp.mean(relabelled.astype(jnp.float32)),
        "goal_q_relabelled": jnp.mean(relabelled_q.astype(jnp.float32)),
        "task_rows": jnp.mean(task.astype(jnp.float32)),
    }, {k: v for k, v in params.items() if k != "distance" or cfg.distance == "learned"}, cfg)

  def gradient_step(state: GoalAgentState, key):
    k_sample, k_loss, k_enc = jax.random.split(key, 3)
    windows = core.buffer.sample(state.replay, k_sample).experience
    data = (windows, state.archive, state.replay.experience.row if use_archive else None,
            state.counts)
    if amigo:  # the teacher's batch: recorded goals (its own key, so other designs keep theirs)
      data = (*data, teacher_lib.sample(state.records, jax.random.fold_in(key, 11),
                                        cfg.batch_size))
    return latent.update(core, ae, cfg, state, losses_fn, data, k_loss, k_enc)

  def observe(state: GoalAgentState, ts, actions, key, env_steps):
    k_stream, k_train = jax.random.split(key)
    rows = GoalRow(row=replay.make_row(spec, ts, actions), goal=state.goal, cell=state.goal_cell,
                   exploit=on_task(state) if task_rows else None,
                   bonus=novelty.reward(state.episode_counts, state.counts, ts.obs)
                   if episodic else None)
    state = state.replace(encoder=ae.observe(state.encoder, ts.obs, k_stream))
    if counting:
      state = state.replace(counts=counts_lib.add_step(counter, state.counts, ts, actions))
    if use_archive:  # this step's rows land at the buffer's current index
      state = state.replace(archive=archive_lib.visit(state.archive, cell_of(ts.obs),
                                                      state.replay.current_index))
    return core.store_and_train(state, rows, k_train, env_steps, gradient_step)

  def pictures(state: GoalAgentState, ts):
    """Env 0: observation, decoded current goal, reconstruction (see ``goalrl.pictures``)."""
    obs = jax.tree.map(lambda x: x[:1], ts.obs)
    params = state.encoder.params
    return {"observation": encoder_lib.encoder_input(spec.kind, obs)[0],
            "goal": ae.decode(params, state.goal[:1])[0],
            "reconstruction": ae.decode(params, ae.encode(params, obs))[0]}

  return Agent(init=init, act=act, observe=observe, pictures=pictures, loss=losses_fn)
