"""The loop's episode statistics on scripted episodes: distinct cells, keys carried and doors
opened per episode."""
import jax.numpy as jnp
import numpy as np

from goalrl import envs, loop
from goalrl.agents.base import Agent

SPEC = envs.EnvSpec("MiniGrid-DoorKey-8x8-v0", "minigrid", 2, 7, (7, 7, 3), 1,
                    envs.MINIGRID_MAX_SIDE ** 2, 1, True)


def _out(positions, terminated=(False, False), truncated=(False, False), image=None,
         direction=(0, 0)):
  return dict(fields=dict(image=jnp.zeros((2, 7, 7, 3), jnp.uint8) if image is None else image,
                          direction=jnp.asarray(direction, jnp.int32),
                          agent_pos=jnp.asarray(positions, jnp.int32)),
              reward=jnp.zeros(2, jnp.float32), terminated=jnp.asarray(terminated),
              truncated=jnp.asarray(truncated))


def test_distinct_cells_per_episode_count_revisits_once_and_restart_at_reset():
  agent = Agent(init=lambda key: {}, act=None, observe=None)
  # Env 0: an episode over (1,1) (1,2) (1,1) (2,2), ending by termination: 3 distinct cells; then
  # the reset step at (3,3) and (3,4), ending by the time limit: 2. Env 1 stays at (5,5), no end.
  ls = loop.init_state(agent, SPEC, jnp.zeros(2, jnp.uint32), _out([[1, 1], [5, 5]]))
  script = [_out([[1, 2], [5, 5]]), _out([[1, 1], [5, 5]]),
            _out([[2, 2], [5, 5]], terminated=(True, False)),
            _out([[3, 3], [5, 5]]), _out([[3, 4], [5, 5]], truncated=(True, False))]
  cells, done = [], []
  for out in script:
    ls, episodes = loop.advance(SPEC, ls, out)
    cells.append(int(episodes["cells"]))
    done.append(int(episodes["done"]))
  assert done == [0, 0, 1, 0, 1]
  assert cells == [0, 0, 3, 0, 2]
  assert np.asarray(ls.episode_cells).tolist() == [2, 1]


def _view(agent_cell=(1, 0, 0), ahead=(1, 0, 0)):
  """Both envs' views: the (object, colour, state) of the agent's own cell and the one ahead."""
  image = np.ones((2, 7, 7, 3), np.uint8)
  for env in range(2):
    image[env, envs.AGENT_CELL[0], envs.AGENT_CELL[1]] = agent_cell[env]
    image[env, envs.FRONT_CELL[0], envs.FRONT_CELL[1]] = ahead[env]
  return jnp.asarray(image)


def test_keys_and_opened_doors_per_episode_on_a_scripted_episode():
  """Env 0 (at (1, 1), facing east) faces a locked door, picks up a key, opens the door, closes
  it and opens it again (one door: counted once), ends; then a fresh episode that turns before the
  door opens (no count). Env 1 (at (5, 5)) faces a closed door and turns to an open one (no
  count), then opens a closed one facing the same way (one door, still running)."""
  agent = Agent(init=lambda key: {}, act=None, observe=None)
  key, locked, closed, opened, empty = (5, 0, 0), (4, 0, 2), (4, 0, 1), (4, 0, 0), (1, 0, 0)
  here = [[1, 1], [5, 5]]
  ls = loop.init_state(agent, SPEC, jnp.zeros(2, jnp.uint32),
                       _out(here, image=_view(ahead=(locked, closed))))
  script = [_out(here, image=_view((key, empty), (locked, closed))),
            _out(here, image=_view((key, empty), (opened, opened)), direction=(0, 1)),
            _out(here, image=_view((key, empty), (closed, closed)), direction=(0, 1)),
            _out(here, image=_view((key, empty), (opened, opened)), direction=(0, 1)),
            _out(here, image=_view((key, empty), (opened, opened)), direction=(0, 1),
                 terminated=(True, False)),
            _out([[2, 2], [5, 5]], image=_view((empty, empty), (locked, opened)),
                 direction=(0, 1)),
            _out([[2, 2], [5, 5]], image=_view((empty, empty), (opened, opened)), direction=(2, 1),
                 truncated=(True, False))]
  keys, doors = [], []
  for out in script:
    ls, episodes = loop.advance(SPEC, ls, out)
    keys.append(int(episodes["key"]))
    doors.append(int(episodes["doors"]))
  assert keys == [0, 0, 0, 0, 1, 0, 0]  # env 0's first episode carried the key; the second did not
  assert doors == [0, 0, 0, 0, 1, 0, 0]  # one door, opened twice; then turned away before it opened
  assert np.asarray(ls.episode_doors).tolist() == [0, 1]  # env 1 opened the door south of it
  assert np.asarray(ls.episode_key).tolist() == [False, False]
  door = envs.minigrid_front_cell(jnp.asarray([1 * envs.MINIGRID_MAX_SIDE + 1]), jnp.asarray([0]))
  assert int(door[0]) == 2 * envs.MINIGRID_MAX_SIDE + 1  # east of (1, 1) is (2, 1)


def test_act_metrics_of_rare_events_average_over_the_events_not_the_steps():
  """``losses.masked_metric``: a value that exists only at some steps (a goal's choice) is
  averaged over those, across the chunk; a per-step masked mean averaged over steps counted the
  steps without an event as 0 (goal_distance and goal_cell_visits read ~21x too small)."""
  import jax
  from goalrl import losses, parallel
  x = jnp.array([[5.0, 9.0], [1.0, 1.0], [3.0, 0.0], [7.0, 7.0]])  # [steps, envs]
  mask = jnp.array([[True, False], [False, False], [True, False], [False, False]])
  never = jnp.zeros_like(mask)
  steps = jax.vmap(lambda xs, m, n: {**losses.masked_metric("d", xs, m),
                                     **losses.masked_metric("none", xs, n),
                                     "sum/events": m.sum().astype(jnp.float32),
                                     "plain": xs.mean()})(x, mask, never)
  row = jax.vmap(lambda a: loop.act_row(a, lambda v: v.sum() / 2), axis_name=parallel.AXIS)(
      jax.tree.map(lambda v: v[None], steps))
  row = {k: float(v[0]) for k, v in row.items()}
  assert row["d"] == 4.0  # (5 + 3) / 2, where the old average of per-step means gave 2.0
  assert np.isnan(row["none"]) and row["events_per_episode"] == 1.0
  assert row["plain"] == float(x.mean()) and not any(k.startswith(("num/", "den/")) for k in row)
