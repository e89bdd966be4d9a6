"""The env boundary: the agent's action set (``env.actions``, ``"auto"``) on both rollout paths."""
import jax
import jax.numpy as jnp
import numpy as np

from goalrl import envs, layout
from helpers import minigrid_pool


def test_env_actions_map_the_agents_actions_onto_the_envs_on_both_rollout_paths():
  """``env.actions="forward,left"``: the agent has 2 actions; its action 0 moves (env action 2),
  1 turns left (env action 0), on the host and in envpool's XLA step alike."""
  pools, specs = zip(*(minigrid_pool("MiniGrid-Empty-8x8-v0", num_envs=2, actions="forward,left",
                                     repeat_action_probability=0.0) for _ in range(2)))
  spec = specs[0]
  assert spec.num_actions == 2 and spec.actions == (2, 0)
  host = [envs.host_reset(spec, pools[0])]
  handle, step = envs.make_xla_step(spec, pools[1])
  pools[1].reset()
  step, xla = jax.jit(step), []
  for a in ([0, 1], [0, 0], [1, 0]):
    host.append(envs.host_step(spec, pools[0], np.asarray(a)))
    handle, out = step(handle, jnp.asarray(a))
    xla.append(out["fields"]["agent_pos"])
  pos = np.stack([h["fields"]["agent_pos"] for h in host])  # [time, env, (x, y)]
  direction = np.stack([h["fields"]["direction"] for h in host])
  np.testing.assert_array_equal(pos[1:], np.stack(xla))
  # env 0: forward, forward, left from (1, 1) facing east; env 1: left (now facing the wall),
  # then forward twice into it.
  np.testing.assert_array_equal(pos[:, 0], [[1, 1], [2, 1], [3, 1], [3, 1]])
  np.testing.assert_array_equal(direction[:, 0], [0, 0, 0, 3])
  np.testing.assert_array_equal(pos[:, 1], [[1, 1]] * 4)
  np.testing.assert_array_equal(direction[:, 1], [0, 3, 3, 3])


def test_auto_actions_are_the_ones_each_task_family_needs():
  assert layout.resolve_actions("auto", "MiniGrid-DoorKey-8x8-v0") == (
      "left,right,forward,pickup,toggle")
  assert layout.resolve_actions("auto", "MiniGrid-MultiRoom-N4-S5-v0") == "left,right,forward,toggle"
  for seven in ("MiniGrid-KeyCorridorS3R3-v0", "BabyAI-GoToLocal-v0", "MontezumaRevenge-v5"):
    assert layout.resolve_actions("auto", seven) == ""  # the env's own set
  assert layout.resolve_actions("", "MiniGrid-DoorKey-8x8-v0") == ""
  _, spec = minigrid_pool("MiniGrid-Empty-5x5-v0", num_envs=1, actions="auto")
  assert spec.num_actions == 3 and spec.actions == (0, 1, 2)


def test_minigrid_events_and_situations_read_the_real_envs_view():
  """A random walk on DoorKey-5x5 (16 envs, the five DoorKey actions): after a ``pickup`` that
  faced a key, ``minigrid_events`` sees the key carried (the view's agent cell shows it), and after
  a ``toggle`` that faced a locked door while carrying it, a door opened (the cell ahead shows it
  open). Neither ever fires otherwise, nor on a reset step. ``minigrid_situation`` gives one code
  per (object carried, object ahead, its state), shared by many views."""
  pool, spec = minigrid_pool("MiniGrid-DoorKey-5x5-v0", num_envs=16, actions="auto",
                             repeat_action_probability=0.0)
  rng = np.random.default_rng(0)
  out = envs.host_reset(spec, pool)
  obs = lambda o: dict(image=jnp.asarray(o["fields"]["image"]),
                       direction=jnp.asarray(o["fields"]["direction"], jnp.int32))
  picked = opened = 0
  carrying = np.zeros(16, bool)
  situations = {}  # situation code -> {(carried, object ahead, its state)}, and the views seen
  views = {}
  for _ in range(600):
    image = out["fields"]["image"]
    for i, code in enumerate(np.asarray(envs.minigrid_situation(jnp.asarray(image)))):
      situations.setdefault(int(code), set()).add(
          (int(image[i, 3, 6, 0]), int(image[i, 3, 5, 0]), int(image[i, 3, 5, 2])))
      views.setdefault(int(code), set()).add(bytes(image[i]))
    actions = rng.integers(0, 5, 16)  # left, right, forward, pickup, toggle
    nxt = envs.host_step(spec, pool, actions)
    first = jnp.asarray(out["terminated"] | out["truncated"])
    events = {k: np.asarray(v) for k, v in envs.minigrid_events(obs(out), obs(nxt), first).items()}
    ahead = out["fields"]["image"][:, 3, 5]
    faced_key = (actions == 3) & (ahead[:, 0] == envs.MINIGRID_KEY) & ~carrying & ~np.asarray(first)
    faced_lock = ((actions == 4) & (ahead[:, 0] == envs.MINIGRID_DOOR) & (ahead[:, 2] == 2)
                  & carrying & ~np.asarray(first))
    assert events["key"][faced_key].all()
    assert events["door"][faced_lock].all()
    assert not events["door"][actions != 4].any()  # only toggle opens a door
    picked += int(faced_key.sum())
    opened += int(faced_lock.sum())
    carrying = events["key"]
    out = nxt
  assert picked >= 3 and opened >= 1  # the walk did meet both events
  # A situation is what the agent carries and faces, one code each, and it recurs across views
  # (layouts, places): far fewer situations than views, a key-carrying one shared by many views.
  assert all(len(s) == 1 for s in situations.values())
  assert len(set().union(*situations.values())) == len(situations)
  assert 3 * len(situations) < sum(len(v) for v in views.values())
  carried = [c for c, s in situations.items() if next(iter(s))[0] == envs.MINIGRID_KEY]
  assert carried and max(len(views[c]) for c in carried) >= 5
  assert max(situations) < layout.SITUATIONS


def test_minigrid_view_geometry():
  """Where a cell lies from an agent (``x * side + y``, MiniGrid's directions 0 east, 1 south,
  2 west, 3 north): ahead along its heading, to its right; in its 7x7 view when 0-6 ahead and at
  most 3 aside; the cell it faces is 1 ahead."""
  side = envs.MINIGRID_MAX_SIDE
  at = lambda x, y: jnp.asarray(x * side + y)
  agent = at(10, 10)
  for d, (dx, dy) in enumerate(envs.MINIGRID_DIR_VEC):
    front = envs.minigrid_front_cell(agent, jnp.asarray(d))
    assert tuple(int(v) for v in envs.minigrid_view_offset(agent, jnp.asarray(d), front)) == (1, 0)
  east, south = jnp.asarray(0), jnp.asarray(1)
  assert tuple(int(v) for v in envs.minigrid_view_offset(agent, east, at(13, 12))) == (3, 2)
  assert tuple(int(v) for v in envs.minigrid_view_offset(agent, south, at(13, 12))) == (2, -3)
  cases = {(16, 10): True, (17, 10): False, (16, 13): True, (16, 14): False, (10, 7): True,
           (9, 10): False, (10, 10): True}
  for (x, y), seen in cases.items():
    assert bool(envs.minigrid_in_view(agent, east, at(x, y))) is seen, (x, y)
  assert bool(envs.minigrid_in_view(agent, south, at(10, 16)))
  assert not bool(envs.minigrid_in_view(agent, south, at(10, 4)))
  assert int(envs.minigrid_grid_distance(agent, at(13, 6))) == 7
