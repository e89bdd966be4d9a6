"""The encoder's reservoir stream keeps a uniform sample of the whole run; FIFO does not."""
import jax
import jax.numpy as jnp
import numpy as np

from goalrl import diverse_replay


def _stream(strategy, capacity=500, early=1000, late=9000, batch=10, seed=0):
  """Offers ``early`` distinct ids, then ``late`` copies of one id (a policy that settled)."""
  ids = np.concatenate([np.arange(early), np.full(late, -1)]).astype(np.int32)
  state = diverse_replay.init(jnp.zeros((), jnp.int32), capacity)

  def body(state, xs):
    items, key = xs
    return diverse_replay.add(state, items, key, strategy), None

  keys = jax.random.split(jax.random.PRNGKey(seed), len(ids) // batch)
  state, _ = jax.lax.scan(jax.jit(body), state, (ids.reshape(-1, batch), keys))
  return state


def test_reservoir_is_more_diverse_than_fifo():
  reservoir, fifo = _stream("reservoir"), _stream("fifo")
  distinct = lambda s: len(np.unique(np.asarray(s.items)))
  assert distinct(fifo) == 1
  assert distinct(reservoir) > 20 * distinct(fifo)
  assert int(reservoir.seen) == int(fifo.seen) == 10_000


def test_reservoir_keeps_each_item_with_equal_probability():
  # 1000 of 10000 items are early: a uniform sample of 500 holds ~50 of them, over seeds.
  early = [int((np.asarray(_stream("reservoir", seed=s).items) >= 0).sum()) for s in range(8)]
  assert 35 < np.mean(early) < 65, early


def test_fills_in_order_before_sampling_replacement():
  state = diverse_replay.init(jnp.zeros((), jnp.int32), 8)
  state = diverse_replay.add(state, jnp.arange(5, dtype=jnp.int32), jax.random.PRNGKey(0))
  assert np.asarray(state.items).tolist() == [0, 1, 2, 3, 4, 0, 0, 0]


def test_colliding_slots_keep_the_later_item():
  state = diverse_replay.init(jnp.zeros((), jnp.int32), 2)
  state = diverse_replay.add(state, jnp.array([7, 8], jnp.int32), jax.random.PRNGKey(0))
  state = state.replace(seen=jnp.array(10 ** 6, jnp.int32))  # new items are rarely kept now
  slots = diverse_replay.write_slots(state, 4, jax.random.PRNGKey(3), "reservoir")
  state = state.replace(seen=jnp.array(0, jnp.int32))
  slots = diverse_replay.write_slots(state, 6, jax.random.PRNGKey(3), "reservoir")
  # Items 0-1 fill the slots; of later items drawn into one slot, only the last is written.
  written = [int(s) for s in np.asarray(slots) if s < 2]
  assert len(written) == len(set(written))
