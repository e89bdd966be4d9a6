"""The goal archive (``goalrl.archive``, the goal agent's ``candidate_source="archive"``): its
candidates are states the agent reached, read back from the replay; a pointer whose replay row was
overwritten is never drawn; rarely visited cells are drawn more often, and their novelty fades."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import archive, counts
from goalrl.agents import goal_agent
from goalrl.envs import TimeStep
from helpers import load_experiment, minigrid_obs


STEPS, PER_ENV = 16, 12  # env steps observed; replay rows per env (older rows are overwritten)


@pytest.fixture(scope="module")
def walk():
  """A goal agent (``:quick``, never updating) that acted and observed ``STEPS`` env steps of a
  DoorKey-5x5 random walk on 16 envs, with a replay of ``PER_ENV`` rows per env; every env starts
  an episode at the first and the last step, so the setter picks new goals there. The archive
  counts its goals' outcomes (``archive_reach_power=1``); the fifth element sums the act metrics
  of the goals chosen from archive cells and of the goals reached."""
  steps, replay_rows = STEPS, 16 * PER_ENV
  spec, obs = minigrid_obs(16 * steps)
  cfg = load_experiment("goal_agent", "quick").agent
  cfg.learning_starts = 10 ** 9
  cfg.replay_size = replay_rows
  cfg.archive_reach_power = 1.0
  agent = goal_agent.make_agent(cfg, spec)
  n = spec.num_envs
  state = agent.init(jax.random.PRNGKey(0))
  observe, act = jax.jit(agent.observe), jax.jit(agent.act)
  batches = [jax.tree.map(lambda x, i=i: x[i * n:(i + 1) * n], obs) for i in range(steps)]
  sums = {"den/goal_reach_rate": 0.0, "sum/goals_reached": 0.0}
  for i, one in enumerate(batches):
    ts = TimeStep(obs=one, reward=jnp.zeros(n), terminated=jnp.zeros(n, bool),
                  truncated=jnp.zeros(n, bool), first=jnp.full(n, i in (0, steps - 1)))
    state, _, metrics = act(state, ts, jax.random.PRNGKey(100 + i), 0)
    sums = {k: v + float(metrics[k]) for k, v in sums.items()}
    state, _ = observe(state, ts, jnp.zeros(n, jnp.int32), jax.random.PRNGKey(i), 0)
  return spec, cfg, state, batches, sums


def _views(obs) -> list:
  return [(bytes(np.asarray(obs["image"][i])), int(obs["direction"][i]))
          for i in range(obs["image"].shape[0])]


def test_archive_candidates_are_real_reached_states_and_the_setter_picks_one(walk):
  spec, cfg, state, batches = walk[:4]
  time_axis = cfg.replay_size // spec.num_envs
  reached = {v for b in batches for v in _views(b)}
  d = archive.draw(state.archive, jax.random.PRNGKey(7), spec, time_axis, 16, 32,
                   cfg.archive_power)
  assert bool(d.fresh.all())
  obs = archive.observations(spec, state.replay.experience.row, state.archive, d.cells)
  flat = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), obs)
  assert set(_views(flat)) <= reached
  # each candidate is the observation its cell's code names
  codes = counts.make_counter(spec, cfg.archive_bits).codes(flat)
  assert (np.asarray(codes) == np.asarray(d.cells).reshape(-1)).all()
  assert int(state.archive.count.sum()) == 16 * STEPS  # every observed env step counted once
  # The goals the setter chose at the last step (a new episode) encode reached states.
  ae_encode = jax.jit(lambda o: agent_encode(cfg, spec, state, o))
  reached_z = np.concatenate([np.asarray(ae_encode(b)) for b in batches])
  goals = np.asarray(state.goal)
  gaps = np.min(np.linalg.norm(goals[:, None] - reached_z[None], axis=-1), axis=1)
  assert (gaps < 1e-4).all(), gaps


def agent_encode(cfg, spec, state, obs):
  from goalrl import encoder as encoder_lib
  return encoder_lib.make_autoencoder(cfg.encoder, spec).encode(state.encoder.params, obs)


def test_a_pointer_whose_replay_row_was_overwritten_is_never_drawn(walk):
  """A replay of 12 rows per env and 16 steps: cells last visited more than 11 steps ago lost
  their row; they keep their counts, and no draw returns them."""
  spec, cfg, state, _ = walk[:4]
  per_env = PER_ENV
  a = state.archive
  visited = np.asarray(a.written) >= 0
  fresh = np.asarray(archive.fresh(a, spec, per_env))
  age = int(a.step) - np.asarray(a.written)
  assert (fresh == (visited & (age <= per_env - spec.stack))).all()
  stale = visited & ~fresh
  assert stale.any() and (np.asarray(a.count)[stale] > 0).all()
  d = archive.draw(a, jax.random.PRNGKey(3), spec, per_env, 16, 256, cfg.archive_power)
  assert fresh[np.asarray(d.cells)].all()


def test_rare_cells_are_drawn_more_often_and_their_novelty_fades():
  spec, _ = minigrid_obs(16)
  a = archive.init(4)
  a = a.replace(count=a.count.at[:2].set(jnp.array([0, 99])), written=a.written.at[:2].set(0),
                step=jnp.asarray(1))  # two fresh cells, visited 0 and 99 times
  d = archive.draw(a, jax.random.PRNGKey(0), spec, 100, 100, 400, 0.5)
  cells = np.asarray(d.cells)
  assert set(np.unique(cells)) == {0, 1}
  ratio = (cells == 0).sum() / (cells == 1).sum()  # (0 + 1)^-0.5 / (99 + 1)^-0.5 = 10
  assert 8.5 < ratio < 11.5, ratio
  uniform = np.asarray(archive.draw(a, jax.random.PRNGKey(0), spec, 100, 100, 400, 0.0).cells)
  assert 0.9 < (uniform == 0).sum() / (uniform == 1).sum() < 1.1
  novelty = archive.novelty(jnp.arange(5) ** 2, 0.1)
  assert np.allclose(novelty, 0.1 / np.sqrt(np.arange(5) ** 2 + 1))
  assert (np.diff(np.asarray(novelty)) < 0).all()
  assert counts.bonus(jnp.asarray(3), 0.1, 0.5) == archive.novelty(jnp.asarray(3), 0.1)


def test_goals_chosen_and_not_reached_fade_by_their_reach_rate(walk):
  """``archive_reach_power``: each cell counts the goals the setter took from it and those of them
  reached; its novelty is weighted by ``((reached + 1) / (chosen + 1)) ** power``, so a cell whose
  goals keep failing fades however rarely it is visited, and one whose goals are reached does
  not. The agent counts every goal it took from a cell, and only those."""
  a = archive.init(3, outcomes=True)
  assert archive.init(3).chosen is None  # without outcomes, the state's pytree as before
  cells = jnp.array([2, 2, 5, -1, 5])
  for _ in range(9):  # cell 2: 18 goals chosen, 18 reached; cell 5: 18 chosen, none reached
    a = archive.record(a, cells, jnp.array([True, True, True, True, True]), cells,
                       jnp.array([True, True, False, True, False]))
  np.testing.assert_array_equal(a.chosen, [0, 0, 18, 0, 0, 18, 0, 0])  # -1: no cell, no count
  np.testing.assert_array_equal(a.reached, [0, 0, 18, 0, 0, 0, 0, 0])
  rate = np.asarray(archive.reach_rate(a, jnp.array([0, 2, 5]), 1.0))
  np.testing.assert_allclose(rate, [1.0, 1.0, 1 / 19], rtol=1e-6)  # never chosen: untouched
  np.testing.assert_allclose(archive.reach_rate(a, jnp.array([5]), 0.5), [19 ** -0.5], rtol=1e-6)
  # One more failure lowers cell 5 further; a masked-out choice changes nothing.
  b = archive.record(a, jnp.array([5, 2]), jnp.array([True, False]), jnp.array([5, 2]),
                     jnp.array([False, False]))
  assert float(archive.reach_rate(b, jnp.array([5]), 1.0)[0]) < rate[2]
  assert int(b.chosen[2]) == 18
  # The agent's own count: one choice per goal taken from a cell, reached ones among them.
  _, _, state, _, sums = walk
  chosen, reached = np.asarray(state.archive.chosen), np.asarray(state.archive.reached)
  assert chosen.sum() == sums["den/goal_reach_rate"] > 0
  assert (reached <= chosen).all() and reached.sum() <= sums["sum/goals_reached"]


def test_goals_re_encode_with_the_current_encoder(walk):
  """A goal from the archive is its cell's observation encoded by today's encoder (here: the
  encoder's params moved since acting); a goal from no cell keeps its stored latent."""
  from goalrl import encoder as encoder_lib
  spec, cfg, state, _ = walk[:4]
  ae = encoder_lib.make_autoencoder(cfg.encoder, spec)
  moved = jax.tree.map(lambda p: p * 1.5, state.encoder.params)
  cells = state.goal_cell.at[0].set(-1)  # env 0's goal: from no cell
  assert (np.asarray(cells[1:]) >= 0).all()
  time_axis = cfg.replay_size // spec.num_envs
  got = goal_agent.current_goals(lambda o: ae.encode(moved, o), spec, time_axis, state.archive,
                                 state.replay.experience.row, state.goal, cells)
  obs = archive.observations(spec, state.replay.experience.row, state.archive, cells[1:])
  np.testing.assert_allclose(got[1:], ae.encode(moved, obs), atol=1e-5)
  np.testing.assert_array_equal(got[0], state.goal[0])
  assert float(jnp.abs(got[1:] - state.goal[1:]).max()) > 1e-2  # the stored latents were stale


def test_episode_scope_draws_only_cells_this_env_visited_in_its_episode(walk):
  """``archive_scope="episode"``: env ``i`` draws only cells whose latest visit is its own since its
  episode began (views of the layout it is in); an env with none in scope draws from every cell."""
  spec, cfg, state, batches = walk[:4]
  a, n = state.archive, spec.num_envs
  time_axis = cfg.replay_size // n
  start = jnp.full((n,), int(a.step) - 1, jnp.int32)  # episodes that began at the last step
  d = archive.draw(a, jax.random.PRNGKey(5), spec, time_axis, n, 64, cfg.archive_power, start)
  cells, env, written = (np.asarray(x) for x in (d.cells, a.env, a.written))
  last = np.asarray(counts.make_counter(spec, cfg.archive_bits).codes(batches[-1]))
  owned = (env[last] == np.arange(n)) & (written[last] == int(a.step) - 1)
  assert owned.sum() >= n // 2  # most envs own the cell of their last view
  for i in range(n):
    if owned[i]:  # its only cell in scope: its own last view, every draw
      assert (cells[i] == last[i]).all()
  # Episodes that began at the first step: every draw is a cell of the env's own stream.
  d = archive.draw(a, jax.random.PRNGKey(6), spec, time_axis, n, 64, cfg.archive_power,
                   jnp.zeros((n,), jnp.int32))
  fresh = np.asarray(archive.fresh(a, spec, time_axis))
  in_scope = (fresh[None] & (env[None] == np.arange(n)[:, None])).any(axis=1)  # else: fallback
  assert in_scope.sum() >= n // 2 and bool(d.fresh.all())
  mine = env[np.asarray(d.cells)] == np.arange(n)[:, None]
  assert mine[in_scope].all()
  # Nothing in scope (an episode that begins after every visit): every fresh cell is drawn from.
  d = archive.draw(a, jax.random.PRNGKey(6), spec, time_axis, n, 256, cfg.archive_power,
                   jnp.full((n,), int(a.step), jnp.int32))
  assert len(np.unique(np.asarray(d.cells))) > n and bool(d.fresh.all())


def test_situation_cells_are_shared_by_the_views_of_one_situation(walk):
  """``archive_cells="situation"``: the archive's cell (the goals', the reach test's) is what the
  agent carries and faces, so distinct views of one situation share a cell; by view they do not."""
  spec, cfg, _, batches = walk[:4]
  by_view = goal_agent.archive_cell_of(cfg, spec)
  sit_cfg = cfg.copy_and_resolve_references()
  sit_cfg.archive_cells = "situation"
  by_situation = goal_agent.archive_cell_of(sit_cfg, spec)
  obs = jax.tree.map(lambda *x: jnp.concatenate(x), *batches)
  views, sits = np.asarray(by_view(obs)), np.asarray(by_situation(obs))
  image = np.asarray(obs["image"])
  for code in np.unique(sits):
    at = sits == code
    assert len({(int(i[3, 6, 0]), int(i[3, 5, 0]), int(i[3, 5, 2])) for i in image[at]}) == 1
  assert len(np.unique(sits)) < len(np.unique(views)) / 3
