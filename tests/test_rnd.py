"""RND DQN: the bonus flags novel observations; in the bonus form it enters n-step returns like
the env reward, and with beta = 0 leaves DQN's transitions (hence its TD targets) exactly as they
were; in the two-head form the intrinsic return runs on through episode ends, both heads bootstrap
on the action their weighted sum picks, and the bonus is scaled by the intrinsic return's std."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from goalrl import envs, replay
from goalrl.agents import rnd_dqn
from helpers import load_experiment

GAMMA = 0.9


def _pool(name, num_envs=4, max_episode_steps=0, seed=0):
  cfg = ml_collections.ConfigDict(dict(name=name, num_envs=num_envs, num_threads=1,
                                       max_episode_steps=max_episode_steps,
                                       repeat_action_probability=0.25, reward_clip=True))
  pool = envs.make_pool(cfg, seed=seed)
  return pool, envs.make_spec(cfg, pool)


def _random_walk(name, steps, seed=0, max_episode_steps=0):
  """Yields ``(spec, TimeStep, actions)`` for ``steps`` steps of a uniformly random policy."""
  pool, spec = _pool(name, max_episode_steps=max_episode_steps, seed=seed)
  rng = np.random.default_rng(seed)
  out, first = envs.host_reset(spec, pool), np.ones(spec.num_envs, bool)
  for _ in range(steps):
    ts, _ = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                             out["truncated"], first)
    actions = rng.integers(0, spec.num_actions, spec.num_envs).astype(np.int32)
    yield spec, ts, jnp.asarray(actions)
    first = out["terminated"] | out["truncated"]
    out = envs.host_step(spec, pool, actions)


def _distinct_obs(name, steps, seed):
  """The distinct MiniGrid observations of a random walk, in order of first appearance."""
  seen, images, directions = set(), [], []
  for _, ts, _ in _random_walk(name, steps, seed):
    for image, direction in zip(np.asarray(ts.obs["image"]), np.asarray(ts.obs["direction"])):
      key = image.tobytes() + bytes([int(direction)])
      if key not in seen:
        seen.add(key)
        images.append(image)
        directions.append(direction)
  return dict(image=jnp.asarray(np.stack(images)), direction=jnp.asarray(np.stack(directions)))


def test_bonus_is_higher_on_observations_never_trained_on():
  obs = _distinct_obs("MiniGrid-DoorKey-5x5-v0", 400, seed=0)
  n = jax.tree.leaves(obs)[0].shape[0]
  assert n >= 40, n
  take = lambda x, idx: jax.tree.map(lambda a: a[idx], x)
  trained, held_out = take(obs, np.arange(0, n, 2)), take(obs, np.arange(1, n, 2))
  # Another env's views (an open room: no dividing wall, key or door), further still from training.
  empty_room = _distinct_obs("MiniGrid-Empty-5x5-v0", 50, seed=1)
  _, spec = _pool("MiniGrid-DoorKey-5x5-v0")
  cfg = load_experiment("rnd_dqn", "quick").agent
  rnd = rnd_dqn.make_rnd(cfg.rnd, spec, cfg.max_grad_norm, cfg.adam_eps)
  state = rnd_dqn.init_rnd(rnd, spec, jax.random.PRNGKey(0))
  step = jax.jit(lambda s, _: (rnd_dqn.rnd_update(rnd, s, trained)[0], None))
  state, _ = jax.lax.scan(step, state, None, length=300)
  bonus = lambda o: float(jnp.mean(rnd_dqn.normalise(
      state.moments, rnd_dqn.prediction_errors(rnd, state.predictor, state.target, o))))
  seen, unseen, other_env = bonus(trained), bonus(held_out), bonus(empty_room)
  # Measured: 0.05 trained, 0.19 held out, 1.9 other env (57 distinct DoorKey views).
  assert unseen > 2 * seen, (seen, unseen)
  assert other_env > 2 * unseen, (unseen, other_env)


def test_moments_merge_batches_exactly():
  x = np.random.default_rng(0).gamma(2.0, 0.1, size=(5, 96)).astype(np.float32)
  m = rnd_dqn.RunningMoments(*(jnp.zeros((), jnp.float32) for _ in range(3)))
  for batch in x:
    m = rnd_dqn.update_moments(m, jnp.asarray(batch))
  assert float(m.count) == x.size
  np.testing.assert_allclose([float(m.mean), float(m.var)], [x.mean(), x.var()], rtol=1e-5)


def _window(rewards, term, trunc):
  n = len(rewards)
  return replay.Row(frame=jnp.arange(n, dtype=jnp.uint8)[:, None, None],
                    action=jnp.zeros(n, jnp.uint8), reward=jnp.asarray(rewards, jnp.float32),
                    terminated=jnp.asarray(term, bool), truncated=jnp.asarray(trunc, bool),
                    first=jnp.zeros(n, bool))


def test_bonus_is_discounted_and_cut_at_termination():
  # stack 1, n 3: rows 0..3; the episode terminates at row 2, so row 3's bonus is not paid.
  spec = envs.EnvSpec("test", "atari", 1, 4, (1,), 1, 1, 1, False)
  w = _window([0, 1, 2, 4], [0, 0, 1, 0], [0, 0, 0, 0])
  intrinsic = jnp.asarray([[10.0, 20.0, 40.0]])
  batch = jax.tree.map(lambda x: x[None], w)
  plain = replay.nstep_transition(spec, w, GAMMA, 3)
  with_bonus = rnd_dqn.bonus_transitions(spec, batch, intrinsic, 0.5, GAMMA, 3)
  np.testing.assert_allclose(with_bonus.r_t[0], (1 + 0.5 * 10) + GAMMA * (2 + 0.5 * 20), rtol=1e-6)
  np.testing.assert_allclose(plain.r_t, 1 + GAMMA * 2, rtol=1e-6)
  assert float(with_bonus.discount_t[0]) == float(plain.discount_t) == 0.0


def test_beta_zero_gives_dqn_transitions_and_beta_adds_discounted_bonus_until_episode_end():
  """On real envpool windows (truncations every 7 steps): beta = 0 reproduces
  ``replay.sample_transitions`` bit for bit, so the TD targets are plain DQN's; beta > 0 adds
  exactly ``beta * sum_{i <= k} gamma^(i-1) b_i``, with ``k`` the steps to the episode end."""
  n_step, batch_size = 3, 256
  walk = list(_random_walk("MiniGrid-Empty-5x5-v0", 60, max_episode_steps=7))
  spec = walk[0][0]
  buffer = replay.make_buffer(spec, spec.num_envs * 1000, batch_size, n_step)
  state = buffer.init(replay.example_row(spec))
  for _, ts, actions in walk:
    state = replay.add_rows(buffer, state, replay.make_row(spec, ts, actions))
  key = jax.random.PRNGKey(3)
  dqn_batch = replay.sample_transitions(spec, buffer, state, key, GAMMA, n_step)
  windows = buffer.sample(state, key).experience
  intrinsic = jax.random.uniform(jax.random.PRNGKey(4), (batch_size, n_step), minval=0.5)
  zero = rnd_dqn.bonus_transitions(spec, windows, intrinsic, 0.0, GAMMA, n_step)
  jax.tree.map(np.testing.assert_array_equal, zero, dqn_batch)

  beta = 0.5
  bonus = rnd_dqn.bonus_transitions(spec, windows, intrinsic, beta, GAMMA, n_step)
  ended = np.asarray(windows.terminated | windows.truncated)[:, 1:]  # rows after j0 = 0
  k = np.where(ended.any(1), ended.argmax(1) + 1, n_step)
  assert (k < n_step).any(), "test needs episode ends inside windows"
  paid = (np.arange(1, n_step + 1)[None] <= k[:, None]) * GAMMA ** np.arange(n_step)[None]
  expected = beta * np.sum(paid * np.asarray(intrinsic), axis=1)
  np.testing.assert_allclose(np.asarray(bonus.r_t - dqn_batch.r_t), expected, rtol=1e-5, atol=1e-6)
  for name in ("discount_t", "a_tm1", "valid"):
    np.testing.assert_array_equal(getattr(bonus, name), getattr(dqn_batch, name))


def test_next_observations_are_the_window_rows_after_j0():
  walk = list(_random_walk("MiniGrid-DoorKey-5x5-v0", 8))
  spec = walk[0][0]
  rows = [replay.make_row(spec, ts, a) for _, ts, a in walk]
  windows = jax.tree.map(lambda *x: jnp.stack(x, axis=1), *rows)  # [num_envs, 8]
  obs = rnd_dqn.next_observations(spec, windows, n_step=7)
  expected = jax.tree.map(lambda *x: jnp.stack(x, axis=1), *[ts.obs for _, ts, _ in walk[1:]])
  expected = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), expected)
  jax.tree.map(np.testing.assert_array_equal, obs, expected)


def test_intrinsic_return_runs_through_episode_ends():
  """Two heads: the intrinsic n-step return sums every row after ``j0``, through a termination
  (row 2), and bootstraps at row ``j0 + n`` with ``gamma ** n``; the extrinsic one is DQN's."""
  spec = envs.EnvSpec("test", "atari", 1, 4, (1,), 1, 1, 1, False)
  w = _window([0, 1, 2, 4], [0, 0, 1, 0], [0, 0, 0, 0])
  t = rnd_dqn.intrinsic_transition(spec, w, jnp.asarray([10.0, 20.0, 40.0]), GAMMA, 3)
  np.testing.assert_allclose(t.r_t, 10 + GAMMA * 20 + GAMMA ** 2 * 40, rtol=1e-6)
  np.testing.assert_allclose(t.discount_t, GAMMA ** 3, rtol=1e-6)
  assert int(t.obs_t[0, 0]) == 3 and int(t.obs_tm1[0, 0]) == 0 and bool(t.valid)
  ext = replay.nstep_transition(spec, w, GAMMA, 3)
  assert float(ext.discount_t) == 0.0 and int(ext.obs_t[0, 0]) == 2  # cut at the termination


def test_both_heads_bootstrap_on_the_action_the_weighted_sum_picks():
  """At the next observation the extrinsic head prefers action 0 and the intrinsic head action 1;
  with weights 2 and 1 the sum picks 1 (2*0 + 1*5 > 2*1 + 0), so both targets use action 1 of the
  target net; with the intrinsic weight 0 they use action 0."""
  q = {0: jnp.asarray([[0.0, 0.0], [0.0, 0.0]]),  # obs 0: Q(s, .) per head [head, action]
       1: jnp.asarray([[1.0, 0.0], [0.0, 5.0]])}  # obs 1: extrinsic best 0, intrinsic best 1
  target = {0: jnp.zeros((2, 2)), 1: jnp.asarray([[3.0, 7.0], [11.0, 13.0]])}
  apply = lambda params, obs: jnp.stack([params[int(o)] for o in obs])
  t = replay.Transition(obs_tm1=jnp.asarray([0]), a_tm1=jnp.asarray([0]), r_t=jnp.asarray([1.0]),
                        discount_t=jnp.asarray([0.5]), obs_t=jnp.asarray([1]),
                        valid=jnp.asarray([True]))
  for c_i, a in ((1.0, 1), (0.0, 0)):
    _, m = rnd_dqn.two_head_loss(apply, q, target, t, t, 2.0, c_i, huber_delta=100.0)
    # Huber with a large delta is 0.5 td^2; Q(s, a) = 0 in both heads.
    td_e, td_i = 1 + 0.5 * target[1][0, a], 1 + 0.5 * target[1][1, a]
    np.testing.assert_allclose(m["loss"], 0.5 * (td_e ** 2 + td_i ** 2), rtol=1e-6)
    np.testing.assert_allclose(m["loss_intrinsic"], 0.5 * td_i ** 2, rtol=1e-6)


def test_two_head_agent_scales_the_bonus_by_the_intrinsic_returns_std():
  """One ``observe`` of the two-head agent: each env's return is ``gamma * previous + raw error``
  of the observation it stands on (never reset), and the moments take in those returns."""
  from goalrl import config as config_lib
  walk = _random_walk("MiniGrid-Empty-5x5-v0", 3)
  config = load_experiment("rnd_dqn", "quick")
  config_lib.validate(config)
  assert config.agent.rnd.form == "two_heads"
  spec, ts, actions = next(walk)
  agent = rnd_dqn.make_agent(config.agent, spec)
  state = agent.init(jax.random.PRNGKey(0))
  state = state.replace(returns=jnp.full(spec.num_envs, 2.0))
  rnd = rnd_dqn.make_rnd(config.agent.rnd, spec, config.agent.max_grad_norm, config.agent.adam_eps)
  raw = rnd_dqn.prediction_errors(rnd, state.rnd.predictor, state.rnd.target, ts.obs)
  after, _ = agent.observe(state, ts, actions, jax.random.PRNGKey(1), jnp.int32(0))
  expected = config.agent.rnd.gamma * 2.0 + raw
  np.testing.assert_allclose(after.returns, expected, rtol=1e-6)
  np.testing.assert_allclose([float(after.rnd.moments.mean), float(after.rnd.moments.var)],
                             [float(jnp.mean(expected)), float(jnp.var(expected))], rtol=1e-5)
