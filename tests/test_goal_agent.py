"""The goal agent's options run end to end and report what they should."""
import dataclasses
import math

import pytest

import jax
import jax.numpy as jnp
import numpy as np

from goalrl import counts, replay
from goalrl import train as train_lib
from goalrl.agents import goal_agent
from goalrl.envs import TimeStep
from helpers import group, load_experiment, minigrid_obs, rows


def _check_options(last: dict, agent_cfg, overrides: dict):
  for key in ("goal_q_loss", "actor_loss", "recon_loss", "goal_q", "goal_distance",
              "goals_reached_per_episode", "goals_abandoned_per_episode"):
    assert last[key] is not None and math.isfinite(last[key]), key
  if overrides.get("distance") == "learned":
    assert last["distance_loss"] > 0
  else:
    assert last["distance_loss"] == 0
  if overrides.get("variant") == "progress":
    assert last["goals_abandoned_per_episode"] == 0
  elif agent_cfg.get("archive_reach_power", 0.0):
    # failing goals fade, so the setter may keep to goals it reaches: goals end either way, and
    # the chosen cells' reach rate ((reached + 1) / (chosen + 1)) is reported
    assert last["goals_abandoned_per_episode"] + last["goals_reached_per_episode"] > 0
    assert 0 < last["goal_reach_rate"] <= 1
  else:
    assert last["goals_abandoned_per_episode"] > 0
    assert "goal_reach_rate" not in last
  if agent_cfg.get("task_her", True):
    assert last["her_relabelled"] == pytest.approx(agent_cfg.her_fraction, abs=0.1)
  else:  # task rows (explore phases) stay task rows
    assert 0 < last["her_relabelled"] < agent_cfg.her_fraction
  assert last["goal_q_relabelled"] == pytest.approx(agent_cfg.goal_q_her, abs=0.1)
  if agent_cfg.optimism.ratio == 0:
    assert last["goal_q_synthetic"] == 0
  if agent_cfg.get("goal_reach_steps", 0):
    assert 0 <= last["goal_reachable_fraction"] <= 1
  else:
    assert "goal_reachable_fraction" not in last
  if agent_cfg.get("goal_reach_top", 0):  # each chosen goal is among the 8 of 32 valued most
    assert 0 <= last["goal_reach_rank"] < agent_cfg.goal_reach_top
  else:
    assert "goal_reach_rank" not in last
  if agent_cfg.get("exploit_fraction", 0.0):  # half the envs exploit; HER takes half their rows
    assert 0 < last["exploit_episodes_per_episode"] < 1
    assert 0 <= last["exploit_successes_per_episode"] <= last["exploit_episodes_per_episode"]
    expected = 0.5 * (1 - agent_cfg.her_fraction) + (1 - 0.5 * (1 - agent_cfg.her_fraction)) * (
        agent_cfg.task_fraction)
    assert last["task_rows"] == pytest.approx(expected, abs=0.15)
  elif agent_cfg.get("achiever", False):  # the actor learns the task from every row
    assert last["task_rows"] == 1 and last["achiever_loss"] > 0
    assert 0 < last["task_share"] < 1  # explore phases and goal phases both ran
  else:
    assert "exploit_episodes_per_episode" not in last and last["task_rows"] == 0
  if agent_cfg.candidate_source == "archive":  # the setter drew goals from reached states
    # a mean over the goals chosen, each from a cell visited at least once
    assert last["archive_cells"] > 0 and last["goal_cell_visits"] >= 1
    assert last["goal_steps_ago"] >= 1  # the chosen cells' latest visits were before the choice
  else:
    assert "archive_cells" not in last


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
def test_default_options_report_what_they_should(experiment, quick_run):
  """The ``:quick`` defaults (reach, fixed distance, HER, archive goals with novelty, the actor
  rewarded by the env too): the session's run."""
  _check_options(rows(quick_run("goal_agent")[0])[-1], experiment("goal_agent", "quick").agent, {})


def _default_design() -> dict:
  """What the ``minigrid`` default sets beyond ``:archive`` (the default before it; the achiever,
  explore phases, cell reach, the counts, situation goals), learner keys aside, for ``:quick``
  to run."""
  new = load_experiment("goal_agent", "minigrid").agent
  old = load_experiment("goal_agent", "archive").agent
  return {k: new[k].to_dict() if hasattr(new[k], "to_dict") else new[k] for k in new
          if new[k] != old[k] and k not in ("learning_rate", "epsilon_decay_steps")}


@pytest.mark.parametrize("overrides", [
    # the minigrid default's design end to end (situation goals from the whole run, the
    # achiever, explore phases, cell reach, the counts, the actor's discount 0.99, the task scored
    # by Q(s, 0), Q(s, g) relabelled and bootstrapped at the goal level), with MEGA's filter on
    # the achiever's values
    "default design",
    # Every other switch off its default at once, each checked on its own below (the note's
    # design among them; the goal-level bootstrap from the bootstrap row, the encoder trained by
    # the agent's losses too; ``variant="progress"`` differs from reach only in goalrl.goals'
    # events and reward: test_goals.py).
    dict(variant="reach", distance="learned", her_fraction=0.0, candidate_source="prior",
         goal_novelty_coef=0.0, abandon_on_q=True, actor_env_reward=0.0, goal_ablation="random",
         optimism={"ratio": 0.1}, goal_q_bootstrap="bootstrap_row", goal_q_her=0.5,
         agent_grads=True),
])
@pytest.mark.slow
def test_goal_agent_options(experiment, tmp_path, overrides):
  config = experiment("goal_agent", "quick")
  config.total_steps = 1_000
  if overrides == "default design":
    overrides = {**_default_design(), "goal_reach_steps": 4, "goal_reach_top": 8}
    assert overrides["achiever"] and overrides["reach_test"] == "cell"  # what it is
  for key, value in overrides.items():
    if key == "agent_grads":
      config.agent.encoder.agent_grads = value
    elif isinstance(value, dict):
      config.agent[key].update(value)
    else:
      config.agent[key] = value
  _check_options(train_lib.train(config, str(tmp_path), progress=False)[-1], config.agent,
                 overrides)


def test_exploit_envs_act_on_the_task_and_with_the_noise_ablation_goal_envs_at_random():
  """``exploit_fraction=0.25`` of 16 envs: envs 0-3 hold the zero goal (no archive cell), their
  replay rows say so, and they act greedily on the actor; the other envs pursue archive goals and,
  with ``goal_ablation="noise"``, act uniformly at random. The actor values action 2 highest for
  every (s, g), epsilon 0."""
  steps = 4
  spec, obs = minigrid_obs(16 * steps)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts, cfg.exploit_fraction, cfg.goal_ablation = 10 ** 9, 0.25, "noise"
  cfg.epsilon_start = cfg.epsilon_end = 0.0
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  state = agent.init(jax.random.PRNGKey(0))
  online = state.learner.online
  mlp = online["actor"]["params"]["MLP_0"]
  head = f"Dense_{len(cfg.actor_layers)}"
  mlp = {**mlp, head: {"kernel": jnp.zeros_like(mlp[head]["kernel"]),
                       "bias": jnp.zeros_like(mlp[head]["bias"]).at[2].set(10.0)}}
  online = {**online, "actor": {"params": {**online["actor"]["params"], "MLP_0": mlp}}}
  state = state.replace(learner=state.learner.replace(online=online))
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  taken = []
  for i in range(steps):
    one = jax.tree.map(lambda x, i=i: x[i * n:(i + 1) * n], obs)
    ts = TimeStep(obs=one, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                  truncated=jnp.zeros(n, bool), first=jnp.full(n, i in (0, steps - 1)))
    state, actions, _ = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    taken.append(np.asarray(actions))
    state, _ = observe(state, ts, actions, jax.random.PRNGKey(i), 0)
  goal, cell = np.asarray(state.goal), np.asarray(state.goal_cell)
  assert (goal[:4] == 0).all() and (cell[:4] == -1).all()
  assert (np.abs(goal[4:]).sum(axis=1) > 0).all() and (cell[4:] >= 0).all()
  stored = np.asarray(state.replay.experience.exploit)  # [N, rows per env] (flashbax)
  assert stored[:4, :steps].all() and not stored[4:, :steps].any()
  taken = np.stack(taken)  # [steps, N]
  assert (taken[:, :4] == 2).all()  # greedy on the task
  assert len(np.unique(taken[:, 4:])) >= 3 and np.mean(taken[:, 4:] == 2) < 0.5  # at random


@pytest.mark.parametrize("layers", [(256,), (256, 256), ()])
def test_actor_layers_shape_the_actor_and_nothing_else(layers):
  """``actor_layers``: the actor's dense layers before its action head (the observation actor's
  after its torso); Q(s, g) keeps ``head_layers``."""
  spec, _ = minigrid_obs(16)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.actor_layers = layers
  params = goal_agent.make_agent(cfg, spec).init(jax.random.PRNGKey(0)).learner.online
  head = params["actor"]["params"]["MLP_0"]
  widths = [head[f"Dense_{i}"]["kernel"].shape[1] for i in range(len(head))]
  assert widths == [*layers, spec.num_actions]
  assert len(params["goal_q"]["params"]) == len(cfg.head_layers) + 1


def test_setter_picks_the_task_by_the_actors_value_and_holds_it_until_it_picks_again():
  """``task_goal``: the task (zero goal, no cell) wins where the actor values it above every
  goal's Q(s, g) + novelty, and loses where it does not; an env on the task keeps it (rows stored
  as task rows) until its next pick, ``max_goal_steps`` later."""
  steps = 5
  spec, obs = minigrid_obs(16 * steps)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts, cfg.task_goal, cfg.max_goal_steps = 10 ** 9, True, 2
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  state = agent.init(jax.random.PRNGKey(0))
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  head = f"Dense_{len(cfg.actor_layers)}"

  def with_task_value(state, value):  # every action of every (s, g) valued ~value by the actor
    online = state.learner.online
    mlp = online["actor"]["params"]["MLP_0"]
    mlp = {**mlp, head: {"kernel": jnp.zeros_like(mlp[head]["kernel"]),
                         "bias": jnp.full_like(mlp[head]["bias"], value)}}
    online = {**online, "actor": {"params": {**online["actor"]["params"], "MLP_0": mlp}}}
    return state.replace(learner=state.learner.replace(online=online))

  modes = []
  for i, value in enumerate([-10.0, 10.0, -10.0, -10.0, -10.0]):
    state = with_task_value(state, value)
    one = jax.tree.map(lambda x, i=i: x[i * n:(i + 1) * n], obs)
    ts = TimeStep(obs=one, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                  truncated=jnp.zeros(n, bool), first=jnp.full(n, i in (0, 1)))
    state, _, _ = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    modes.append(np.asarray(state.on_task))
    goal, cell = np.asarray(state.goal), np.asarray(state.goal_cell)
    if modes[-1].all():
      assert (goal == 0).all() and (cell == -1).all()
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
  # step 0: goals (the task worth -10); step 1 (an episode start): the task (worth 10); steps 2-3:
  # held though worth -10 now (ages 0, 1); step 4: age 2 = max_goal_steps, picked again: goals
  expected = [False, True, True, True, False]
  assert [bool(m.all()) for m in modes] == expected
  assert not modes[0].any() and not modes[4].any()
  stored = np.asarray(state.replay.experience.exploit)  # [N, rows per env]
  assert (stored[:, :steps] == np.array(expected)).all()


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
@pytest.mark.parametrize("reach_test", ["cell", "distance"])
def test_after_reaching_its_goal_an_env_explores_on_the_task_then_picks_a_goal(reach_test):
  """``explore_steps=2`` (Go-Explore's return-then-explore): an env whose goal is reached acts on
  the task (zero goal, no cell, rows stored as task rows) until its age reaches 2 (as a goal's
  ``max_goal_steps``: 3 steps), then picks a goal again.
  ``reach_test="cell"``: only the goal cell's own observation reaches it, though every latent
  distance passes the ``reach_threshold`` of 1e9 (which reaches everything with "distance")."""
  spec, obs = minigrid_obs(16 * 5)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts, cfg.explore_steps, cfg.max_goal_steps = 10 ** 9, 2, 4
  cfg.reach_test, cfg.reach_threshold = reach_test, 1e9
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  cell_of = jax.jit(counts.make_counter(spec, cfg.archive_bits).codes)
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  views = jax.tree.map(lambda x: x[:n], obs)  # archived first, so goals have cells from the start
  state, _ = observe(agent.init(jax.random.PRNGKey(0)), TimeStep(
      obs=views, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool), truncated=jnp.zeros(n, bool),
      first=jnp.ones(n, bool)), jnp.zeros(n, jnp.int32), jax.random.PRNGKey(1), 0)
  codes, pool = np.asarray(cell_of(views)), np.asarray(cell_of(obs))
  # others: views none of which is an archived cell; goal views: each env its goal's own view
  others = np.flatnonzero(~np.isin(pool, codes))
  assert len(others) >= n
  modes = []
  for i in range(6):
    if i == 0:
      one = views
    elif i == 1:
      one = jax.tree.map(lambda x: x[others[:n]], obs)
    else:  # after step 1 each env sees its goal's view (a task env: any view)
      cell = np.asarray(state.goal_cell)
      pick = [int(np.flatnonzero(pool == c)[0]) if c >= 0 else 0 for c in cell]
      one = jax.tree.map(lambda x: x[np.array(pick)], obs)
    ts = TimeStep(obs=one, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                  truncated=jnp.zeros(n, bool), first=jnp.full(n, i == 0))
    state, _, metrics = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    modes.append(np.asarray(state.on_task))
    if i == 0:  # archive goals, each a cell of the views archived
      assert np.isin(np.asarray(state.goal_cell), codes).all()
    if modes[-1].all():
      assert (np.asarray(state.goal) == 0).all() and (np.asarray(state.goal_cell) == -1).all()
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
  # cell: step 1's views are no goal's cell (not reached); step 2 reaches: on the task at steps
  # 2-4 (ages 0-2), a goal again at step 5. distance: reached at once, on the task at 1-3, a goal
  # at step 4, reached at 5.
  expected = ([False, False, True, True, True, False] if reach_test == "cell"
              else [False, True, True, True, False, True])
  assert [bool(m.all()) for m in modes] == expected
  assert not any(m.any() != m.all() for m in modes)
  stored = np.asarray(state.replay.experience.exploit)  # [N, rows per env]; row 0: the archiving
  assert (stored[:, 1:7] == np.array(expected)).all()


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
@pytest.mark.parametrize("explore_first", [True, False])
def test_explore_first_starts_each_episode_exploring_on_the_task(explore_first):
  """``explore_first``: at each episode's start an env acts on the task (explore phase, age 0 to
  ``explore_steps``=2: 3 steps), then picks a goal; without it, the episode starts on a goal.
  No goal is reached here (a threshold of -1), so goals end only by age (``max_goal_steps``=10).

  The same steps (one compile) check episodic novelty on the actor (``optimism.episode_coef``,
  with ``episode_global``; RESULTS §22): each row stores ``coef / sqrt(N_ep) / sqrt(N + 1)`` in
  its ``bonus``, ``N_ep`` restarting with each episode, ``N`` the view's lifelong visits, while
  the row's reward, which Q(s, g) reads, stays the env's."""
  spec, obs = minigrid_obs(16)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts, cfg.max_goal_steps, cfg.reach_threshold = 10 ** 9, 10, -1.0
  cfg.explore_steps, cfg.explore_first = 2, explore_first
  cfg.optimism.update(episode_coef=0.5, episode_global=True)
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  state = agent.init(jax.random.PRNGKey(0))
  modes, bonus = [], []
  for i in range(7):
    ts = TimeStep(obs=jax.tree.map(lambda x: x[:n], obs), reward=jnp.full(n, 0.25),
                  terminated=jnp.zeros(n, bool), truncated=jnp.zeros(n, bool),
                  first=jnp.full(n, i in (0, 5)))
    state, _, metrics = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    on = np.asarray(state.on_task)
    assert on.all() or not on.any()
    modes.append(bool(on.all()))
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
    stored = state.replay.experience  # [env, row]: row i is this step's
    np.testing.assert_array_equal(stored.row.reward[:, i], 0.25)
    bonus.append(np.asarray(stored.bonus[:, i]))
    np.testing.assert_allclose(float(metrics["episode_bonus"]), bonus[-1].mean(), rtol=1e-5)
  # episodes start at steps 0 and 5
  assert modes == ([True, True, True, False, False, True, True] if explore_first
                   else [False] * 7)
  codes = np.asarray(counts.make_counter(spec, cfg.optimism.hash_bits).codes(
      jax.tree.map(lambda x: x[:n], obs)))
  sharing = (codes[:, None] == codes[None, :]).sum(1)  # envs (itself included) with its view
  steps = np.arange(7)[:, None]
  episode = np.array([1, 2, 3, 4, 5, 1, 2])[:, None]  # this visit of the view, this episode
  np.testing.assert_allclose(np.stack(bonus),
                             0.5 / np.sqrt(episode) / np.sqrt(steps * sharing + 1.0), rtol=1e-5)


def _loss_metrics(cfg, spec, obs, stored_cell=None, exploit=None, odd_images=None, state=None,
                  taught=None):
  """The goal agent's loss metrics on 64 windows, each repeating one of ``obs``'s views (no
  reward, no episode end; ``odd_images``: the odd rows show these images, the pose unchanged),
  their goals zero with archive cell ``stored_cell`` (default -1) and task flags ``exploit``
  (default: none); the archive and replay those of ``state`` (default: a new agent's), and the
  teacher's batch ``taught`` (``goal_score="amigo"``)."""
  agent = goal_agent.make_agent(cfg, spec)
  state = agent.init(jax.random.PRNGKey(0)) if state is None else state
  size, length = 64, spec.stack + cfg.horizon
  zeros = jnp.zeros((size, length))
  along = lambda x: jnp.repeat(x[:size, None], length, axis=1)
  image = along(obs["image"])
  if odd_images is not None:
    image = jnp.where((jnp.arange(length) % 2 == 1)[None, :, None, None, None],
                      along(odd_images), image)
  frame = {"image": image, "direction": along(obs["direction"]).astype(jnp.uint8)}
  if "position" in obs:
    frame["position"] = along(obs["position"])
  row = replay.Row(frame=frame,
                   action=zeros.astype(jnp.uint8), reward=zeros, terminated=zeros.astype(bool),
                   truncated=zeros.astype(bool), first=zeros.astype(bool))
  stored_cell = jnp.full((size,), -1, jnp.int32) if stored_cell is None else stored_cell
  windows = goal_agent.GoalRow(
      row=row, goal=jnp.zeros((size, length, cfg.encoder.latent)),
      cell=jnp.repeat(stored_cell[:, None], length, axis=1),
      exploit=None if exploit is None else jnp.repeat(exploit[:, None], length, axis=1))
  data = (windows, state.archive, state.replay.experience.row, None)
  _, metrics = agent.loss(state.learner.online, state.encoder.params, state.learner.target,
                          data if taught is None else (*data, taught), jax.random.PRNGKey(1))
  return metrics


@pytest.mark.parametrize("reach_test,her,reached", [("cell", 0.0, 0.5), ("cell", 1.0, 1.0),
                                                     ("distance", 0.0, 1.0)])
def test_the_actor_is_rewarded_where_the_next_views_cell_is_the_goals(reach_test, her, reached):
  """The actor's reach reward at training time. Each window repeats one view; half the rows store
  that view's archive cell as their goal's, half another cell. ``reach_test="cell"``: half the rows
  reach their stored goal, and every HER-relabelled goal (a later row: the same view) is reached;
  "distance" with a ``reach_threshold`` of 1e9 reaches every goal."""
  spec, obs = minigrid_obs(64)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(reach_test=reach_test, reach_threshold=1e9, her_fraction=her, actor_env_reward=0.0)
  cell = counts.make_counter(spec, cfg.archive_bits).codes(obs)  # [64]
  stored = jnp.where(jnp.arange(64) % 2 == 0, cell, (cell + 1) % 2 ** cfg.archive_bits)
  metrics = _loss_metrics(cfg, spec, obs, stored_cell=stored)
  assert float(metrics["intrinsic_reward"]) == pytest.approx(reached)


@pytest.mark.parametrize("reach_test", ["cell", "pose"])
def test_the_pose_reach_test_ignores_what_changed_in_the_view(reach_test):
  """Windows whose odd rows show another view from the same pose, every goal a later row's state
  (HER): by pose (an oracle) every goal is reached; by cell only those whose view is the next
  row's (offsets of odd length, about half)."""
  spec, obs = minigrid_obs(64)
  spec = dataclasses.replace(spec, position=True)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(reach_test=reach_test, reach_threshold=1e9, her_fraction=1.0, actor_env_reward=0.0)
  obs = {**obs, "position": jnp.arange(64, dtype=jnp.int32)}
  changed = obs["image"].at[:, 0, 0, 0].set((obs["image"][:, 0, 0, 0] + 1) % 11)  # one cell
  cell_of = counts.make_counter(spec, cfg.archive_bits).codes
  assert (cell_of(obs) != cell_of({**obs, "image": changed})).all()
  metrics = _loss_metrics(cfg, spec, obs, odd_images=changed)
  reached = float(metrics["intrinsic_reward"])
  assert reached == 1.0 if reach_test == "pose" else 0.3 < reached < 0.75


def test_a_contrastive_temporal_distance_learns_zero_to_itself_and_far_to_other_windows():
  """``distance_pairs="contrastive"``: trained alone (100 Adam steps on the distance network) on
  64 windows of a random walk, the learned distance of a state to itself falls under 1 step, to
  another window's state rises past the 8 steps any pair of one window can be, and to a later
  state of its window sits between the two."""
  import optax
  spec, obs = minigrid_obs(16 * 16)  # 16 envs x 16 steps, row t * 16 + env
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(distance="learned", distance_pairs="contrastive")
  agent = goal_agent.make_agent(cfg, spec)
  state = agent.init(jax.random.PRNGKey(0))
  length = spec.stack + cfg.horizon
  index = np.array([[(t + k) * 16 + e for k in range(length)] for t in range(4) for e in range(16)])
  zeros = jnp.zeros(index.shape)
  row = replay.Row(frame={"image": obs["image"][index],
                          "direction": obs["direction"][index].astype(jnp.uint8)},
                   action=zeros.astype(jnp.uint8), reward=zeros, terminated=zeros.astype(bool),
                   truncated=zeros.astype(bool), first=zeros.astype(bool))
  windows = goal_agent.GoalRow(row=row, goal=jnp.zeros((*index.shape, cfg.encoder.latent)),
                               cell=jnp.full(index.shape, -1, jnp.int32), exploit=None)
  data = (windows, state.archive, state.replay.experience.row, None)
  params, enc, target = state.learner.online, state.encoder.params, state.learner.target
  loss = lambda dp, key: agent.loss({**params, "distance": dp}, enc, target, data, key)
  opt = optax.adam(3e-3)

  @jax.jit
  def train(dp):
    def step(carry, key):
      dp, opt_state = carry
      grads = jax.grad(lambda d: loss(d, key)[0])(dp)
      updates, opt_state = opt.update(grads, opt_state)
      return (optax.apply_updates(dp, updates), opt_state), None
    (dp, _), _ = jax.lax.scan(step, (dp, opt.init(dp)), jax.random.split(jax.random.PRNGKey(1),
                                                                          100))
    return dp

  metrics = loss(train(params["distance"]), jax.random.PRNGKey(2))[1]
  d_self, d_future, d_other = (float(metrics[f"distance_{k}"]) for k in ("self", "future", "other"))
  assert d_self < 1.0 and d_other > cfg.horizon  # measured: 0.20 and 9.5
  assert d_self < d_future < d_other  # measured: 7.6 (its window's states look like others' here)


@pytest.mark.parametrize("task_her", [True, False])
def test_task_her_false_keeps_task_rows_off_hindsight_goals(task_her):
  """Half the rows are task rows; HER picks half of all rows. ``task_her=False``: every task row
  stays a task row (task_rows 0.5); True (as measured): HER takes about half of them (~0.25)."""
  spec, obs = minigrid_obs(64)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(task_her=task_her, explore_steps=4)  # explore_steps: rows carry their task flag
  metrics = _loss_metrics(cfg, spec, obs, exploit=jnp.arange(64) % 2 == 0)
  if task_her:
    assert 0.1 < float(metrics["task_rows"]) < 0.4
  else:
    assert float(metrics["task_rows"]) == pytest.approx(0.5)


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
@pytest.mark.parametrize("task_score", ["actor", "goal_q"])
def test_the_task_is_scored_by_the_actor_or_by_q_of_the_zero_goal(task_score):
  """``task_score``: the setter's pick follows the chosen value of the task and ignores the other.
  The actor values the task at ``actor`` (its head's bias); Q(s, g) is ``sign * sum(relu(W g))``,
  so Q(s, 0) = 0 and every real goal lies above (sign +1) or below (sign -1, by more than its
  novelty) the task, by far less than the actor's 1e4: the actor says the task where Q(s, 0)
  says the goals, then the reverse."""
  spec, obs = minigrid_obs(16)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(learning_starts=10 ** 9, task_goal=True, task_score=task_score)
  agent = goal_agent.make_agent(cfg, spec)
  n, dim = spec.num_envs, cfg.encoder.latent
  ts = TimeStep(obs=obs, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                truncated=jnp.zeros(n, bool), first=jnp.ones(n, bool))
  state, _ = agent.observe(agent.init(jax.random.PRNGKey(0)), ts, jnp.zeros(n, jnp.int32),
                           jax.random.PRNGKey(1), 0)  # the views archived: real goals
  head = f"Dense_{len(cfg.actor_layers)}"

  def valued(state, actor, sign):
    online = state.learner.online
    mlp = online["actor"]["params"]["MLP_0"]
    mlp = {**mlp, head: {"kernel": jnp.zeros_like(mlp[head]["kernel"]),
                         "bias": jnp.full_like(mlp[head]["bias"], actor)}}
    q = dict(online["goal_q"]["params"])
    first = q["Dense_0"]["kernel"]  # rows: z then g (goal_agent.pair)
    w = jax.random.normal(jax.random.PRNGKey(3), first[dim:].shape)
    q["Dense_0"] = {"kernel": jnp.zeros_like(first).at[dim:].set(w),
                    "bias": jnp.zeros_like(q["Dense_0"]["bias"])}
    for i in range(1, len(q)):  # the hidden units carried through, summed by the output
      k = q[f"Dense_{i}"]["kernel"]
      last = i == len(q) - 1
      q[f"Dense_{i}"] = {"kernel": (jnp.full_like(k, sign) if last
                                    else jnp.eye(*k.shape, dtype=k.dtype)),
                         "bias": jnp.zeros_like(q[f"Dense_{i}"]["bias"])}
    online = {**online, "goal_q": {"params": q},
              "actor": {"params": {**online["actor"]["params"], "MLP_0": mlp}}}
    return state.replace(learner=state.learner.replace(online=online))

  act = jax.jit(agent.act)
  picked = [np.asarray(act(valued(state, actor, sign), ts, jax.random.PRNGKey(2), 0)[0].on_task)
            for actor, sign in ((1e4, 1.0), (-1e4, -1.0))]
  assert [p.all() for p in picked] == ([True, False] if task_score == "actor" else [False, True])
  assert [p.any() for p in picked] == [p.all() for p in picked]


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
@pytest.mark.parametrize("zero_head", [True, False])
def test_with_a_zero_actor_head_the_untrained_task_loses_to_every_goals_novelty(zero_head):
  """``task_goal`` at the first pick, before any update: with ``actor_zero_head`` the task is
  worth exactly 0 and every env takes a goal (Q(s, g) = 0 plus a novelty > 0); with the default
  head the random initial action values outbid the novelty in some envs (RESULTS.md §16)."""
  spec, obs = minigrid_obs(16)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(learning_starts=10 ** 9, task_goal=True, actor_zero_head=zero_head)
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  ts = TimeStep(obs=obs, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                truncated=jnp.zeros(n, bool), first=jnp.ones(n, bool))
  state, _ = agent.observe(agent.init(jax.random.PRNGKey(0)), ts, jnp.zeros(n, jnp.int32),
                           jax.random.PRNGKey(1), 0)  # the views archived: goals have novelty
  state, _, _ = jax.jit(agent.act)(state, ts, jax.random.PRNGKey(2), 0)
  on_task = np.asarray(state.on_task)
  assert not on_task.any() if zero_head else on_task.any()


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
def test_oracle_geometry_of_goals_and_an_actor_that_reads_true_cells():
  """With ``env.oracle_position`` the setter's goals get their true poses: at choice, their grid
  distance and whether they lie in the agent's 7x7 view; when reached, the distance they had;
  when abandoned, whether the agent stood at their pose meanwhile. Every archived view lies at
  (1, 1) facing east; env ``e`` chooses a goal from (1 + e % 4, 1 + e // 4) facing east: distance
  e % 4 + e // 4 (mean 3), in view only straight ahead or at its cell (e % 4 == 0: 4 of 16).
  ``actor_position``: the greedy actor's actions change with its own true cell alone."""
  from goalrl import envs
  spec, obs = minigrid_obs(16 * 5)
  spec = dataclasses.replace(spec, position=True)
  side = envs.MINIGRID_MAX_SIDE
  obs = {**obs, "direction": jnp.zeros_like(obs["direction"])}  # all facing east
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts, cfg.max_goal_steps, cfg.reach_test = 10 ** 9, 1, "cell"
  cfg.epsilon_start = cfg.epsilon_end = 0.0
  cfg.actor_position = True
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  cell_of = jax.jit(counts.make_counter(spec, cfg.archive_bits).codes)
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  home = jnp.full((n,), 1 * side + 1, jnp.int32)
  e = np.arange(n)
  away = jnp.asarray((1 + e % 4) * side + 1 + e // 4, jnp.int32)
  step = lambda o, first: TimeStep(obs=o, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                                   truncated=jnp.zeros(n, bool), first=jnp.full(n, first))
  views = {**jax.tree.map(lambda x: x[:n], obs), "position": home}
  state, _ = observe(agent.init(jax.random.PRNGKey(0)), step(views, True), jnp.zeros(n, jnp.int32),
                     jax.random.PRNGKey(1), 0)
  codes, pool = np.asarray(cell_of(views)), np.asarray(cell_of(obs))
  others = np.flatnonzero(~np.isin(pool, codes))[:n]
  assert len(others) == n
  elsewhere = {**jax.tree.map(lambda x: x[others], obs), "position": away}
  state, actions, m = act(state, step(elsewhere, True), jax.random.PRNGKey(2), 0)
  assert np.isin(np.asarray(state.goal_cell), codes).all()
  assert float(m["num/goal_grid_distance"] / m["den/goal_grid_distance"]) == 3.0
  assert float(m["num/goal_in_view"]) == 4 and float(m["den/goal_in_view"]) == n
  assert (float(m["sum/goals_chosen_in_view"]), float(m["sum/goals_chosen_out_of_view"])) == (4, 12)
  assert float(m["den/goal_grid_distance_reached"]) == 0  # nothing reached yet
  # the actor reads its own cell: the same views one column east give other greedy actions
  _, shifted, _ = act(state, step({**elsewhere, "position": away + side}, False),
                      jax.random.PRNGKey(2), 0)
  assert (np.asarray(shifted) != np.asarray(actions)).any()
  state, _ = observe(state, step(elsewhere, True), actions, jax.random.PRNGKey(3), 0)
  # at the goals' pose with other views (not reached), then abandoned by age (max_goal_steps 1)
  stood, _, m = act(state, step({**elsewhere, "position": home}, False), jax.random.PRNGKey(5), 0)
  assert float(m["sum/goals_reached"]) == 0 and float(m["sum/goals_abandoned"]) == 0
  _, _, m = act(stood, step(elsewhere, False), jax.random.PRNGKey(6), 0)
  assert float(m["sum/goals_abandoned"]) == n and float(m["sum/goals_abandoned_at_pose"]) == n
  # reach_test="pose" (an oracle): standing at the goals' pose reaches them, whatever the view
  # (the same state; act unjitted, to spare a second compilation)
  cfg_pose = cfg.copy_and_resolve_references()
  cfg_pose.reach_test = "pose"
  pose_act = goal_agent.make_agent(cfg_pose, spec).act
  _, _, m = pose_act(state, step({**elsewhere, "position": home}, False), jax.random.PRNGKey(5), 0)
  assert float(m["sum/goals_reached"]) == n and float(m["sum/goals_abandoned"]) == 0
  away_all, _, _ = act(state, step(elsewhere, False), jax.random.PRNGKey(5), 0)
  _, _, m = act(away_all, step(elsewhere, False), jax.random.PRNGKey(6), 0)
  # only env 0, whose "away" is (1, 1) facing east, stood at its goal's pose
  assert float(m["sum/goals_abandoned"]) == n and float(m["sum/goals_abandoned_at_pose"]) == 1
  # each env sees its goal's own view: reached, with the distance it had at its choice
  pick = [int(np.flatnonzero(pool == c)[0]) for c in np.asarray(state.goal_cell)]
  there = {**jax.tree.map(lambda x: x[np.array(pick)], obs), "position": home}
  state, _, m = act(state, step(there, False), jax.random.PRNGKey(4), 0)
  assert float(m["sum/goals_reached"]) == n
  assert float(m["num/goal_grid_distance_reached"] / m["den/goal_grid_distance_reached"]) == 3.0
  assert (float(m["sum/goals_reached_in_view"]), float(m["sum/goals_reached_out_of_view"])) == (
      4, 12)


@pytest.mark.parametrize("skip", [False, True])
def test_the_achiever_learns_to_reach_from_every_row_and_the_actor_the_task(skip):
  """``achiever``: the actor's rows are all task rows (zero goal, the env's reward: 0 here); the
  achiever's goal rows keep their stored goal (no HER here) and its task rows (a quarter) take a
  later state, the same view: rows 0, 2 (mod 4) store their own view's cell (reached), row 1 is a
  task row (reached by HER), row 3 stores another cell (not reached): reward 0.75.
  ``skip_reached_rows``: rows 0-2 stand on their goal already (each window repeats one view) and
  are left out: the achiever's rows are the unreached row 3s, reward 0."""
  spec, obs = minigrid_obs(64)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(reach_test="cell", her_fraction=0.0, explore_steps=4, achiever=True,
             skip_reached_rows=skip)
  cell = counts.make_counter(spec, cfg.archive_bits).codes(obs)  # [64]
  i = jnp.arange(64)
  stored = jnp.where(i % 2 == 0, cell, (cell + 1) % 2 ** cfg.archive_bits)
  metrics = _loss_metrics(cfg, spec, obs, stored_cell=stored, exploit=i % 4 == 1)
  assert float(metrics["task_rows"]) == 1.0 and float(metrics["intrinsic_reward"]) == 0.0
  assert float(metrics["achiever_reward"]) == pytest.approx(0.0 if skip else 0.75)
  assert float(metrics["achiever_loss"]) > 0


def test_amigo_records_each_goal_by_when_it_was_reached_and_the_teacher_reads_them():
  """``goal_score="amigo"``: goals chosen at an episode's start (step 1) from archive cells; at
  step 3 envs 0-7 stand on their goal's own view, two actions after its choice, and envs 8-15 start
  a new episode. Each of the 16 goals is recorded once, with the cell it was chosen at, its own
  cell, and AMIGo's label: +1 for 0-7 where t* = 2 (reached in >= t* steps), -0.3 where t* = 3
  (too soon; then 8 easy goals = ``amigo_easy_count`` raise t* to 4), -0.3 for 8-15 (never
  reached). The teacher's loss reads the records' cells, re-encoded, and their labels. t* is
  state (``amigo_start`` only sets its first value): both starts run on one compile."""
  spec, obs = minigrid_obs(64)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.update(learning_starts=10 ** 9, reach_test="cell", goal_score="amigo", amigo_start=2,
             amigo_easy_count=8, max_goal_steps=10)
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  codes = np.asarray(counts.make_counter(spec, cfg.archive_bits).codes(obs))  # [64]
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  zeros = jnp.zeros(n)

  def step(state, one, first, i):
    ts = TimeStep(obs=one, reward=zeros, terminated=zeros.astype(bool),
                  truncated=zeros.astype(bool), first=jnp.asarray(first))
    state, _, _ = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
    return state

  views = lambda idx: jax.tree.map(lambda x: x[np.asarray(idx)], obs)
  fresh = agent.init(jax.random.PRNGKey(0))
  assert int(fresh.records.difficulty) == 2
  for start in (2, 3):
    _amigo_episode(cfg, spec, obs, codes, step, views, start, fresh.replace(
        records=fresh.records.replace(difficulty=jnp.asarray(start, jnp.int32))))


def _amigo_episode(cfg, spec, obs, codes, step, views, start, state):
  n = spec.num_envs
  state = step(state, views(range(n)), np.ones(n, bool), 0)  # prior goals: no cell, no record
  state = step(state, views(range(n, 2 * n)), np.ones(n, bool), 1)  # archive goals
  goal, chosen_at = np.asarray(state.goal_cell), np.asarray(state.goal_start)
  assert (goal >= 0).all() and (chosen_at == codes[n:2 * n]).all()
  assert int(state.records.count) == 0
  own = [int(np.flatnonzero(codes == c)[0]) for c in goal]  # each goal's own view
  other = [int(np.flatnonzero(codes != c)[0]) for c in goal]  # a view that is not its goal
  state = step(state, views(other), np.zeros(n, bool), 2)
  env = np.arange(n)
  state = step(state, views(np.where(env < 8, own, other)), env >= 8, 3)
  rec = state.records
  assert int(rec.count) == n
  np.testing.assert_array_equal(np.asarray(rec.start[:n]), chosen_at)
  np.testing.assert_array_equal(np.asarray(rec.goal[:n]), goal)
  reached_label = 1.0 if start == 2 else -0.3
  np.testing.assert_allclose(np.asarray(rec.label[:n]), np.where(env < 8, reached_label, -0.3))
  assert int(rec.difficulty) == (2 if start == 2 else 4)
  metrics = _loss_metrics(cfg, spec, obs, state=state,
                          taught=(rec.start[:n], rec.goal[:n], rec.label[:n], jnp.ones(n, bool)))
  assert float(metrics["teacher_rows"]) == 1.0
  assert float(metrics["teacher_label"]) == pytest.approx((8 * reached_label - 8 * 0.3) / n)
  assert float(metrics["teacher_loss"]) > 0  # an untrained teacher scores every goal 0
