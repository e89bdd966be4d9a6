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
