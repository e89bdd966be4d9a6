"""The frame-deduplicated replay reconstructs exactly what envpool returned."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from goalrl import envs, replay

GAMMA = 0.9


def _window(frames, rewards, term, trunc, first, actions=None):
  n = len(rewards)
  return replay.Row(frame=jnp.asarray(frames, jnp.uint8),
                    action=jnp.asarray(actions if actions is not None else np.arange(n), jnp.uint8),
                    reward=jnp.asarray(rewards, jnp.float32), terminated=jnp.asarray(term, bool),
                    truncated=jnp.asarray(trunc, bool), first=jnp.asarray(first, bool))


def _spec(stack):
  return envs.EnvSpec("test", "atari", 1, 4, (1,), stack, 1, 1, False)


def test_nstep_return_cut_at_termination():
  # stack 1, n 3: rows 0..3; row 2 terminates.
  w = _window([[[0]], [[1]], [[2]], [[3]]], [0, 1, 2, 4], [0, 0, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1])
  t = replay.nstep_transition(_spec(1), w, GAMMA, 3)
  np.testing.assert_allclose(t.r_t, 1 + GAMMA * 2)
  assert float(t.discount_t) == 0.0 and bool(t.valid)
  assert int(t.obs_t[0, 0]) == 2


def test_truncation_bootstraps_from_final_obs():
  w = _window([[[0]], [[1]], [[2]], [[3]]], [0, 1, 2, 4], [0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 1])
  t = replay.nstep_transition(_spec(1), w, GAMMA, 3)
  np.testing.assert_allclose(t.r_t, 1.0)
  np.testing.assert_allclose(t.discount_t, GAMMA, rtol=1e-6)
  assert int(t.obs_t[0, 0]) == 1


def test_no_episode_end_uses_full_n_steps():
  w = _window([[[0]], [[1]], [[2]], [[3]]], [0, 1, 1, 1], [0] * 4, [0] * 4, [0] * 4)
  t = replay.nstep_transition(_spec(1), w, GAMMA, 3)
  np.testing.assert_allclose(t.r_t, 1 + GAMMA + GAMMA ** 2)
  np.testing.assert_allclose(t.discount_t, GAMMA ** 3, rtol=1e-6)
  assert int(t.a_tm1) == 0 and int(t.obs_t[0, 0]) == 3


def test_window_starting_on_terminal_obs_is_masked():
  w = _window([[[0]], [[1]]], [0, 0], [1, 0], [0, 0], [0, 1])
  assert not bool(replay.nstep_transition(_spec(1), w, GAMMA, 1).valid)


def test_stack_repeats_first_frame_of_episode():
  # stack 4, n 1: rows 0..4, an episode starts at row 2.
  frames = [[[f]] for f in (10, 11, 12, 13, 14)]
  w = _window(frames, [0] * 5, [0] * 5, [0] * 5, [0, 0, 1, 0, 0])
  t = replay.nstep_transition(_spec(4), w, GAMMA, 1)
  assert t.obs_tm1[:, 0, 0].tolist() == [12, 12, 12, 13]
  assert t.obs_t[:, 0, 0].tolist() == [12, 12, 13, 14]


@pytest.mark.parametrize("name, n_step, limit", [("MontezumaRevenge-v5", 2, 17),
                                                  ("MiniGrid-DoorKey-5x5-v0", 2, 17),
                                                  ("MiniGrid-Empty-5x5-v0", 3, 40)])
def test_sampled_transitions_match_envpool_observations(name, n_step, limit):
  """Every stored window rebuilds envpool's own obs_tm1 / obs_t (stacked frames, resets), and its
  n-step return and bootstrap discount from the rewards and flags envpool returned step by step
  (Empty-5x5 under a random policy reaches its goal within a 40-step limit now and then, so
  rewards, terminations and truncations all occur)."""
  n_envs, steps = 2, 200
  cfg = ml_collections.ConfigDict(dict(name=name, num_envs=n_envs, num_threads=1,
                                       max_episode_steps=limit, repeat_action_probability=0.25,
                                       reward_clip=True))
  pool = envs.make_pool(cfg, seed=0)
  spec = envs.make_spec(cfg, pool)
  buffer = replay.make_buffer(spec, capacity=n_envs * 1000, batch_size=256, n_step=n_step)
  state = buffer.init(replay.example_row(spec))
  rng = np.random.default_rng(0)
  out, first, seen = envs.host_reset(spec, pool), np.ones(n_envs, bool), []
  for _ in range(steps):
    ts, _ = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                             out["truncated"], first)
    actions = rng.integers(0, spec.num_actions, n_envs).astype(np.int32)
    state = replay.add_rows(buffer, state, replay.make_row(spec, ts, jnp.asarray(actions)))
    seen.append(ts)
    first = out["terminated"] | out["truncated"]
    out = envs.host_step(spec, pool, actions)
  assert any(bool(np.any(t.first)) for t in seen[1:]), "test needs episode ends"
  # Rebuild every window of every env and compare with what envpool returned.
  length = spec.stack + n_step
  exp = jax.tree.map(np.asarray, state.experience)
  build = jax.jit(lambda w: replay.nstep_transition(spec, w, GAMMA, n_step))
  equal = lambda a, b: all(jax.tree.leaves(jax.tree.map(np.array_equal, a, b)))
  obs_of = lambda t, e: jax.tree.map(lambda x: np.asarray(x[e]), seen[t].obs)
  checked = rewarded = 0
  for e in range(n_envs):
    for s in range(steps - length + 1):
      tr = build(jax.tree.map(lambda x: x[e, s:s + length], exp))
      j0 = s + spec.stack - 1
      ended = [bool(seen[j0 + k].terminated[e] | seen[j0 + k].truncated[e])
               for k in range(1, n_step + 1)]
      k = ended.index(True) + 1 if any(ended) else n_step
      assert bool(tr.valid) == (not bool(seen[j0].terminated[e] | seen[j0].truncated[e]))
      expected_return = sum(GAMMA ** (i - 1) * float(seen[j0 + i].reward[e]) for i in range(1, k + 1))
      np.testing.assert_allclose(float(tr.r_t), expected_return, rtol=1e-6, atol=1e-7)
      expected_discount = 0.0 if bool(seen[j0 + k].terminated[e]) else GAMMA ** k
      np.testing.assert_allclose(float(tr.discount_t), expected_discount, rtol=1e-6)
      rewarded += float(tr.r_t) > 0
      # Windows reaching back before the buffer's first row cannot rebuild a stack at the start.
      if j0 >= spec.stack - 1:
        assert equal(jax.tree.map(np.asarray, tr.obs_tm1), obs_of(j0, e)), (e, s)
        assert equal(jax.tree.map(np.asarray, tr.obs_t), obs_of(j0 + k, e)), (e, s, k)
        checked += 1
  assert checked == n_envs * (steps - length + 1)
  if name == "MiniGrid-Empty-5x5-v0":
    assert rewarded > 0, "test needs rewarded windows"


def test_atari_row_is_under_8kb():
  spec = envs.EnvSpec("MontezumaRevenge-v5", "atari", 4, 18, (84, 84), 4, 1, 1, True)
  buffer = replay.make_buffer(spec, capacity=4 * 64, batch_size=1, n_step=3)
  state = buffer.init(replay.example_row(spec))
  per_row = sum(x.nbytes for x in jax.tree.leaves(state.experience)) / (4 * 64)
  assert per_row < 8 * 1024, per_row


def test_bootstrap_row_and_the_goal_in_force_there():
  """``replay.bootstrap_row``: n rows after the first transition row, or the first episode end;
  the goal agent's goal-level bootstrap reads the goal stored with that row."""
  from goalrl.agents.goal_agent import GoalRow, bootstrap_goals
  full = _window([[[0]], [[1]], [[2]], [[3]]], [0, 1, 2, 4], [0, 0, 0, 0], [0, 0, 0, 0],
                 [1, 0, 0, 0])
  cut = _window([[[0]], [[1]], [[2]], [[3]]], [0, 1, 2, 4], [0, 0, 1, 0], [0, 0, 0, 0],
                [1, 0, 0, 1])
  assert int(replay.bootstrap_row(_spec(1), full, 3)) == 3
  assert int(replay.bootstrap_row(_spec(1), cut, 3)) == 2
  assert int(replay.bootstrap_row(_spec(2), full, 2)) == 3  # j0 = stack - 1 = 1
  windows = jax.tree.map(lambda a, b: jnp.stack([a, b]), full, cut)
  goal = jnp.arange(2 * 4 * 2, dtype=jnp.float32).reshape(2, 4, 2)  # a distinct goal per row
  got = bootstrap_goals(_spec(1), GoalRow(row=windows, goal=goal), 3)
  np.testing.assert_array_equal(got, jnp.stack([goal[0, 3], goal[1, 2]]))
  # With archive goals, that row's goal and cell go to the re-encoder (current_goals).
  cell = jnp.array([[10, 11, 12, 13], [20, 21, 22, 23]], jnp.int32)
  current = lambda g, c: g * 0 + c[:, None].astype(jnp.float32)
  got = bootstrap_goals(_spec(1), GoalRow(row=windows, goal=goal, cell=cell), 3, current)
  np.testing.assert_array_equal(got, [[13, 13], [22, 22]])
