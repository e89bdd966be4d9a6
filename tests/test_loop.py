"""The loop's episode statistics on a scripted episode: distinct cells per episode."""
import jax.numpy as jnp
import numpy as np

from goalrl import envs, loop
from goalrl.agents.base import Agent

SPEC = envs.EnvSpec("MiniGrid-DoorKey-8x8-v0", "minigrid", 2, 7, (7, 7, 3), 1,
                    envs.MINIGRID_MAX_SIDE ** 2, 1, True)


def _out(positions, terminated=(False, False), truncated=(False, False)):
  return dict(fields=dict(image=jnp.zeros((2, 7, 7, 3), jnp.uint8),
                          direction=jnp.zeros(2, jnp.int32),
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
