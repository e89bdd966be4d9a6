"""Count-based optimism (``goalrl.counts``, optimistic DQN's ``optimism.action_coef`` /
``bootstrap_coef``): SimHash codes, counts per (code, action), an optimism that fades with visits,
and the optimistic bootstrap of the loss."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import counts, envs, losses, replay
from goalrl.agents import goal_agent, optimistic_dqn
from goalrl.envs import TimeStep
from helpers import load_experiment, minigrid_obs


def test_codes_separate_distinct_views_and_counts_add_per_action():
  spec, obs = minigrid_obs()
  counter = counts.make_counter(spec, 16)
  codes = np.asarray(jax.jit(counter.codes)(obs))
  views = {(bytes(np.asarray(obs["image"][i])), int(obs["direction"][i])): codes[i]
           for i in range(len(codes))}
  # the same view always gets the same code, and distinct views (almost) never share one
  assert all(codes[i] == views[(bytes(np.asarray(obs["image"][i])), int(obs["direction"][i]))]
             for i in range(len(codes)))
  assert len(set(views.values())) >= 0.9 * len(views)
  table = counter.init()
  actions = jnp.arange(len(codes)) % spec.num_actions
  mask = jnp.arange(len(codes)) != 0  # the first row is not counted
  table = counter.add(table, obs, actions, mask)
  table = counter.add(table, obs, actions, mask)
  got = np.asarray(counter.counts(table, obs))[np.arange(len(codes)), np.asarray(actions)]
  assert got[0] == 2 * (sum(1 for i in range(1, len(codes))
                            if codes[i] == codes[0] and actions[i] == actions[0]))
  assert (got[1:] >= 2).all() and int(table.sum()) == 2 * (len(codes) - 1)


def test_optimism_fades_with_visits_in_the_agent():
  """Optimistic DQN with action_coef > 0: acting on the same view with the same action raises its
  count, and the action's optimism falls as 1 / (N + 1)^2."""
  spec, obs = minigrid_obs(16)
  cfg = load_experiment("optimistic_dqn", "quick").agent
  cfg.optimism.action_coef, cfg.optimism.bootstrap_coef = 1.0, 0.1
  cfg.learning_starts = 10 ** 9  # observe stores and counts, never updates
  agent = optimistic_dqn.make_agent(cfg, spec)
  one = jax.tree.map(lambda x: x[:spec.num_envs], obs)
  n = spec.num_envs
  ts = TimeStep(obs=one, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                truncated=jnp.zeros(n, bool), first=jnp.zeros(n, bool))
  state = agent.init(jax.random.PRNGKey(0))
  observe = jax.jit(agent.observe)
  counter = counts.make_counter(spec, cfg.optimism.hash_bits)
  actions = jnp.zeros(n, jnp.int32)
  seen = []
  for i in range(3):
    state, _ = observe(state, ts, actions, jax.random.PRNGKey(i), 0)
    seen.append(np.asarray(counter.counts(state.counts, one))[:, 0])
  assert (seen[1] > seen[0]).all() and (seen[2] > seen[1]).all()
  optimism = [counts.bonus(jnp.asarray(c), 1.0, cfg.optimism.count_power) for c in seen]
  assert (np.diff(np.stack(optimism), axis=0) < 0).all()
  # untried actions keep their full optimism, so the greedy choice moves off action 0
  q_bonus = counts.bonus(counter.counts(state.counts, one), 1.0, 2.0)
  assert (q_bonus[:, 1:] > q_bonus[:, :1]).all()


@pytest.mark.parametrize("goal_counts", [True, False])
def test_goal_agent_actor_counts_its_actions_and_acts_on_their_optimism(goal_counts):
  """The goal agent with optimism.action_coef > 0: observe counts (view, action) pairs, and the
  actor's greedy choice leaves the action it has tried most (its optimism has faded); off by
  default (no table in the state). ``goal_counts=False``: only the envs on the task (here the
  exploit half) act on the counts; the goal envs act on Q(s, g, .) alone, all 0 with a zero head
  (so action 0, the first of the ties)."""
  spec, obs = minigrid_obs(16)
  cfg = load_experiment("goal_agent", "quick").agent
  assert goal_agent.make_agent(cfg, spec).init(jax.random.PRNGKey(0)).counts is None
  cfg.optimism.action_coef = 100.0
  cfg.epsilon_start = cfg.epsilon_end = 0.0  # greedy: the choice is the actor's Q + optimism
  cfg.learning_starts = 10 ** 9  # observe stores and counts, never updates
  cfg.goal_counts, cfg.actor_zero_head, cfg.exploit_fraction = goal_counts, True, 0.5
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  ts = TimeStep(obs=jax.tree.map(lambda x: x[:n], obs), reward=jnp.zeros(n),
                terminated=jnp.zeros(n, bool), truncated=jnp.zeros(n, bool),
                first=jnp.zeros(n, bool))
  state = agent.init(jax.random.PRNGKey(0))
  observe = jax.jit(agent.observe)
  for i in range(3):
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
  counter = counts.make_counter(spec, cfg.optimism.hash_bits)
  tried = np.asarray(counter.counts(state.counts, ts.obs))
  assert (tried[:, 0] >= 3).all() and int(state.counts.sum()) == 3 * n
  _, actions, _ = jax.jit(agent.act)(state, ts, jax.random.PRNGKey(9), 0)
  actions, task = np.asarray(actions), np.arange(n) < n // 2  # the exploit envs
  assert (actions[task] != 0).all()
  assert (actions[~task] != 0).all() if goal_counts else (actions[~task] == 0).all()


def test_bootstrap_bonus_picks_and_values_the_next_action():
  params = jnp.array([[0.0, 1.0], [2.0, 0.0]])  # "q net": row 0 for obs 0, row 1 for obs 1
  apply = lambda p, obs: p[obs]
  batch = replay.Transition(obs_tm1=jnp.array([0]), a_tm1=jnp.array([0]), r_t=jnp.array([0.5]),
                            discount_t=jnp.array([0.9]), obs_t=jnp.array([1]),
                            valid=jnp.array([True]))
  plain, _ = losses.double_dqn_loss(apply, params, params, batch, 100.0)
  bonus = jnp.array([[0.0, 3.0]])  # makes action 1 the pick at obs_t: 0 + 3 > 2 + 0
  boosted, _ = losses.double_dqn_loss(apply, params, params, batch, 100.0, bonus_t=bonus)
  # targets 0.5 + 0.9 * 2 = 2.3 and 0.5 + 0.9 * 3 = 3.2 against Q = 0: Huber = td^2 / 2
  np.testing.assert_allclose([plain, boosted], [2.3 ** 2 / 2, 3.2 ** 2 / 2], rtol=1e-6)


def test_atari_codes_are_simhash_of_the_frames():
  spec = envs.EnvSpec("MontezumaRevenge-v5", "atari", 1, 18, (84, 84), 4, 1, 1, False)
  counter = counts.make_counter(spec, 16)
  frames = jax.random.randint(jax.random.PRNGKey(0), (3, 4, 84, 84), 0, 255).astype(jnp.uint8)
  frames = frames.at[1].set(frames[0])
  nearly = frames.at[2].set(frames[0].at[0, 0, 0].set(255 - frames[0, 0, 0, 0]))  # one pixel
  codes = np.asarray(counter.codes(frames))
  near = np.asarray(counter.codes(nearly))
  other = np.asarray(counter.codes(255 - frames))
  assert codes[0] == codes[1] == near[2]  # identical and one-pixel-apart stacks share a code
  assert other[0] != codes[0]  # an inverted stack does not


def test_q_on_the_observation_is_dqns_network_with_count_optimism(tmp_path):
  """``q_input="observation"``: Q is DQN's network on the observation (its parameters have DQN's
  shapes, and the autoencoder idles), and the run trains with count optimism alone, here
  the oracle's (the pose, carried by the observation through the loop and replay)."""
  from goalrl import train as train_lib
  from goalrl.agents import dqn
  config = load_experiment("optimistic_dqn", "quick")
  a = config.agent
  a.q_input, a.optimism.ratio, a.optimism.action_coef, a.optimism.bootstrap_coef = (
      "observation", 0.0, 0.1, 0.01)
  spec, _ = minigrid_obs(16)
  state = optimistic_dqn.make_agent(a, spec).init(jax.random.PRNGKey(0))
  want = dqn.make_network(a, spec).init(jax.random.PRNGKey(1), spec.zero_obs(1))
  shapes = lambda tree: jax.tree.map(jnp.shape, tree)
  assert shapes(state.learner.online) == shapes(want)
  config.total_steps = 1_000
  a.optimism.counts, config.env.oracle_position = "position", True
  last = train_lib.train(config, str(tmp_path), progress=False)[-1]
  assert np.isfinite(last["loss"]) and last["synthetic_fraction"] == 0
  assert "recon_loss" not in last  # nothing reads the autoencoder, so it does not train


def test_oracle_counts_read_the_agents_true_pose():
  """``env.oracle_position``: the observation carries the agent's cell (the loop's
  ``Signals.cell``), replay keeps it, and ``counts="position"`` codes are ``cell * 4 +
  direction``: one code per pose, whatever the view."""
  from helpers import minigrid_pool
  pool, plain = minigrid_pool("MiniGrid-DoorKey-5x5-v0", num_envs=4)
  spec = dataclasses.replace(plain, position=True)
  out = envs.host_reset(spec, pool)
  rng = np.random.default_rng(0)
  for _ in range(5):
    out = envs.host_step(spec, pool, rng.integers(0, 3, 4))
  ts, signals = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                                 out["truncated"], np.zeros(4, bool))
  np.testing.assert_array_equal(ts.obs["position"], signals.cell)
  row = replay.make_row(spec, ts, jnp.zeros(4, jnp.int32))
  windows = jax.tree.map(lambda x: x[:, None], row)  # one row per env's window
  back = jax.vmap(lambda w: replay.obs_at(spec, w, jnp.asarray(0)))(windows)
  np.testing.assert_array_equal(back["position"], signals.cell)
  counter = counts.make_counter(spec, 14, "position")
  np.testing.assert_array_equal(counter.codes(ts.obs), signals.cell * 4 + ts.obs["direction"])
  same_view = {**ts.obs, "position": ts.obs["position"] + 1}  # one cell over, the same view
  assert (counter.codes(same_view) != counter.codes(ts.obs)).all()
  assert (counts.make_counter(spec, 14).codes(same_view) == counts.make_counter(spec, 14).codes(
      ts.obs)).all()  # the view's hash cannot tell them apart
  with pytest.raises(ValueError, match="env.oracle_position=True"):
    counts.make_counter(plain, 14, "position")


def test_episodic_counts_restart_with_each_episode_and_pay_first_visits_most():
  """``optimism.episode_coef``: act counts each env's observation in its own episode table, cleared
  at the episode's first observation; observe stores ``coef / sqrt(N_ep)`` (times ``1 / sqrt(N +
  1)`` with ``episode_global``) on top of the env's reward in the replay row. (The goal agent's
  stored bonus: test_goal_agent.py's explore_first test; its actor's loss: the goals-disabled
  test below.)"""
  spec, obs = minigrid_obs(16)
  n = spec.num_envs
  one = jax.tree.map(lambda x: x[:n], obs)
  cfg = load_experiment("optimistic_dqn", "quick").agent
  cfg.optimism.episode_coef = 0.5
  assert optimistic_dqn.make_agent(cfg, spec).init(jax.random.PRNGKey(0)).counts is None
  cfg.optimism.episode_global = True  # now the lifelong table is kept, and read
  cfg.learning_starts = 10 ** 9  # stores and counts, never updates
  agent = optimistic_dqn.make_agent(cfg, spec)
  state = agent.init(jax.random.PRNGKey(0))
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  first = jnp.arange(n) == 0  # env 0's observation starts a new episode every step
  ts = TimeStep(obs=one, reward=jnp.full(n, 0.25), terminated=jnp.zeros(n, bool),
                truncated=jnp.zeros(n, bool), first=first)
  stored = []
  for i in range(3):
    state, actions, metrics = act(state, ts, jax.random.PRNGKey(i), 0)
    state, _ = observe(state, ts, actions, jax.random.PRNGKey(i), 0)
    stored.append(np.asarray(state.replay.experience.reward[:, i]) - 0.25)  # the step's rows
    np.testing.assert_allclose(float(metrics["episode_bonus"]), stored[-1].mean(), rtol=1e-5)
  stored = np.stack(stored)  # [step, env]
  steps = np.arange(3)[:, None]
  episode = np.where(np.arange(n) == 0, 1, steps + 1)  # env 0 restarts each step; others go on
  codes = np.asarray(counts.make_counter(spec, cfg.optimism.hash_bits).codes(one))
  sharing = (codes[:, None] == codes[None, :]).sum(1)  # envs (itself included) with its view
  lifelong = steps * sharing  # every env's visits of the view before this step, all actions
  np.testing.assert_allclose(stored, 0.5 / np.sqrt(episode) / np.sqrt(lifelong + 1.0), rtol=1e-5)


@pytest.mark.parametrize("kind", ["noveld", "count+noveld"])
def test_noveld_pays_first_visits_for_novelty_gained_over_the_step_before(kind):
  """``episode_novelty="noveld"``: arriving at an observation pays ``coef * max(nov(s') - 0.5 *
  nov(s), 0)`` (``nov = 1 / sqrt(N + 1)``, ``N`` its lifelong visits before this step) on its
  first visit of the episode only, nothing at an episode's first observation. Each env walks
  X (new episode), Y, Y, X, then the same again as a new episode: only Y's first visits pay
  (where Y is not X's view); an env whose views no other shares earns ``0.5 * (1 - 0.5)``, then,
  both views seen twice, ``0.5 * (1 - 0.5) / sqrt(3)``. ``"count+noveld"`` pays the same at
  ``noveld_coef`` on top of the episodic count's ``episode_coef / sqrt(N_ep)`` at every step."""
  spec, obs = minigrid_obs(32)
  n = spec.num_envs
  x, y = (jax.tree.map(lambda a, i=i: a[i * n:(i + 1) * n], obs) for i in (0, 1))
  cfg = load_experiment("optimistic_dqn", "quick").agent
  both = kind == "count+noveld"
  cfg.optimism.update(episode_coef=0.3 if both else 0.5, episode_novelty=kind,
                      noveld_coef=0.5 if both else 0.0)
  cfg.learning_starts = 10 ** 9  # stores and counts, never updates
  agent = optimistic_dqn.make_agent(cfg, spec)
  state = agent.init(jax.random.PRNGKey(0))
  assert state.counts is not None  # NovelD reads the lifelong counts
  act, observe = jax.jit(agent.act), jax.jit(agent.observe)
  walk = [("x", True), ("y", False), ("y", False), ("x", False)] * 2
  counter = counts.make_counter(spec, cfg.optimism.hash_bits)
  views = {"x": x, "y": y}
  code = {k: np.asarray(counter.codes(v)) for k, v in views.items()}
  lifelong, seen, last, want, stored = {}, [set() for _ in range(n)], None, [], []
  for i, (name, first) in enumerate(walk):
    view = views[name]
    ts = TimeStep(obs=view, reward=jnp.full(n, 0.25), terminated=jnp.zeros(n, bool),
                  truncated=jnp.zeros(n, bool), first=jnp.full(n, first))
    state, actions, metrics = act(state, ts, jax.random.PRNGKey(i), 0)
    state, _ = observe(state, ts, actions, jax.random.PRNGKey(i), 0)
    stored.append(np.asarray(state.replay.experience.reward[:, i]) - 0.25)
    np.testing.assert_allclose(float(metrics["episode_bonus"]), stored[-1].mean(), rtol=1e-5)
    c = code[name]
    nov = 1 / np.sqrt(np.array([lifelong.get(k, 0) for k in c]) + 1.0)
    pays, n_ep = [], []
    for e in range(n):
      seen[e] = {} if first else seen[e]
      k = c[e] % 2 ** 14
      pays.append(not first and k not in seen[e])
      seen[e][k] = seen[e].get(k, 0) + 1
      n_ep.append(seen[e][k])
    want.append(np.where(pays, 0.5 * np.maximum(nov - 0.5 * (last if last is not None else 0), 0),
                         0.0) + (0.3 / np.sqrt(n_ep) if both else 0.0))
    last = nov
    for k in c:
      lifelong[k] = lifelong.get(k, 0) + 1
  stored, want = np.stack(stored), np.stack(want)
  np.testing.assert_allclose(stored, want, rtol=1e-5, atol=1e-7)
  if both:  # the rest below is NovelD's alone (and the goal agent shares its code either way)
    assert (stored[[0, 4]] == np.float32(0.3)).all()  # each episode's first view: the count's
    return
  assert (np.delete(stored, [1, 5], axis=0) == 0).all()  # only Y's first visits pay
  both = np.concatenate([code["x"], code["y"]])
  alone = (both[:, None] == both[None, :]).sum(1) == 1  # a view no other env or step shares
  alone = alone[:n] & alone[n:]
  assert alone.any()
  np.testing.assert_allclose(stored[1, alone], 0.5 * (1 - 0.5), rtol=1e-5)  # N: 0 and 0
  np.testing.assert_allclose(stored[5, alone], 0.5 * 0.5 / np.sqrt(3), rtol=1e-5)  # N: 2 and 2
  # The goal agent's actor takes the same reward (the same goalrl.counts code): its steps trace.
  goal_cfg = load_experiment("goal_agent", "quick").agent
  goal_cfg.optimism.update(episode_coef=0.5, episode_novelty="noveld")
  goal = goal_agent.make_agent(goal_cfg, spec)
  g_state = jax.eval_shape(goal.init, jax.random.PRNGKey(0))
  assert g_state.counts is not None and g_state.episode_counts["paid"].shape == (n,)
  g_state, actions, _ = jax.eval_shape(goal.act, g_state, ts, jax.random.PRNGKey(0), 0)
  jax.eval_shape(goal.observe, g_state, ts, actions, jax.random.PRNGKey(0), 0)


def test_episode_visit_counts_per_env_and_clears_on_first():
  table = jnp.zeros((2, 8), jnp.int32)
  table = counts.episode_visit(table, jnp.array([3, 3]), jnp.array([False, False]))
  table = counts.episode_visit(table, jnp.array([3, 5]), jnp.array([False, True]))
  np.testing.assert_array_equal(table[0], np.eye(8, dtype=int)[3] * 2)
  np.testing.assert_array_equal(table[1], np.eye(8, dtype=int)[5])  # env 1's episode restarted
  np.testing.assert_allclose(counts.episode_reward(jnp.array([1, 4]), 1.0, jnp.array([3, 0])),
                             [0.5, 0.5])


@pytest.mark.parametrize("n_step", [1, 3])
def test_goal_agent_actor_with_goals_disabled_is_optimistic_dqns_learner(n_step):
  """On the same transitions and the same network weights, the goal agent's actor with goals
  disabled (zero goal, the env's reward only, OPIQ's counts, DQN's one dense layer) has optimistic
  DQN's loss: n-step double Q (``actor_n_step`` against optimistic DQN's ``n_step``) with the
  counts' bootstrap bonus at the bootstrap row, the same targets, the same episode-end handling,
  and episodic novelty paid as optimistic DQN stores it (on top of the env's reward, summed over
  the n rows). Windows with rewards, terminations and truncations at random rows."""
  spec, obs = minigrid_obs(256)
  coefs = dict(action_coef=0.1, bootstrap_coef=0.01, episode_coef=0.05)
  g_cfg = load_experiment("goal_agent", "quick").agent
  g_cfg.update(goal_ablation="zero", actor_input="observation", actor_layers=(256,),
               actor_gamma=0.99, actor_n_step=n_step)
  g_cfg.optimism.update(coefs)
  o_cfg = load_experiment("optimistic_dqn", "quick").agent
  o_cfg.update(q_input="observation", n_step=n_step, head_layers=(256,), gamma=0.99)
  o_cfg.optimism.update(ratio=0.0, **coefs)
  goal, opiq = goal_agent.make_agent(g_cfg, spec), optimistic_dqn.make_agent(o_cfg, spec)
  g_state, o_state = goal.init(jax.random.PRNGKey(0)), opiq.init(jax.random.PRNGKey(1))

  size, length = 64, spec.stack + g_cfg.horizon
  k = jax.random.split(jax.random.PRNGKey(2), 6)
  pick = jax.random.randint(k[0], (size, length), 0, 256)
  ended = jax.random.uniform(k[1], (size, length)) < 0.15
  truncated = ended & (jax.random.uniform(k[2], (size, length)) < 0.3)
  terminated = ended & ~truncated
  row = replay.Row(frame={"image": obs["image"][pick],
                          "direction": obs["direction"][pick].astype(jnp.uint8)},
                   action=jax.random.randint(k[3], (size, length), 0, spec.num_actions
                                             ).astype(jnp.uint8),
                   reward=jnp.where(terminated & (jax.random.uniform(k[4], (size, length)) < 0.5),
                                    0.7, 0.0),
                   terminated=terminated, truncated=truncated,
                   first=jnp.pad(ended[:, :-1], ((0, 0), (1, 0))))
  # the episodic novelty of each row's arrival (coef / sqrt(N_ep), N_ep in 1..4)
  novelty = coefs["episode_coef"] / jnp.sqrt(
      jax.random.randint(jax.random.fold_in(k[5], 1), (size, length), 1, 5).astype(jnp.float32))
  windows = goal_agent.GoalRow(row=row, goal=jnp.zeros((size, length, g_cfg.encoder.latent)),
                               cell=jnp.full((size, length), -1, jnp.int32), bonus=novelty)
  table = jax.random.randint(k[5], g_state.counts.shape, 0, 4)

  g_online = g_state.learner.online
  g_target = {**g_state.learner.target,
              "actor": goal.init(jax.random.PRNGKey(3)).learner.online["actor"]}

  def as_dqn(actor):  # the same function: the zero goal's input rows of the first layer dropped
    torso, mlp = actor["params"]["torso"], actor["params"]["MLP_0"]
    width = mlp["Dense_0"]["kernel"].shape[0] - g_cfg.encoder.latent
    first = {"kernel": mlp["Dense_0"]["kernel"][:width], "bias": mlp["Dense_0"]["bias"]}
    return {"params": {"torso": torso, "Dense_0": first, "Dense_1": mlp["Dense_1"]}}

  _, g_metrics = goal.loss(g_online, g_state.encoder.params, g_target,
                           (windows, g_state.archive, g_state.replay.experience.row, table),
                           jax.random.PRNGKey(4))
  stored = row._replace(reward=row.reward + novelty)  # optimistic DQN's replay row
  batch = replay.transitions(spec, jax.tree.map(lambda x: x[:, :spec.stack + n_step], stored),
                             o_cfg.gamma, n_step)
  counter = counts.make_counter(spec, o_cfg.optimism.hash_bits)
  bonus_t = counts.bonus(counter.counts(table, batch.obs_t), coefs["bootstrap_coef"],
                         o_cfg.optimism.count_power)
  o_loss, _ = opiq.loss(as_dqn(g_online["actor"]), o_state.encoder.params,
                        as_dqn(g_target["actor"]), (batch, bonus_t), jax.random.PRNGKey(4))
  assert float(batch.valid.mean()) < 1 and float(batch.discount_t.min()) == 0  # episode ends in
  assert float(o_loss) > 1e-3
  np.testing.assert_allclose(float(g_metrics["actor_loss"]), float(o_loss), rtol=1e-5)
