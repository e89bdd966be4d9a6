"""The encoder's replay stream: as many *different* inputs as possible, not the most recent ones.

Strategy: reservoir sampling over the whole run (Vitter's algorithm R, batched). After ``n``
observations were offered, every one of them is in the stream with the same probability
``capacity / n``. A FIFO of the same size, by contrast, holds only the last ``capacity`` steps,
which collapse onto a few states once a policy settles (a trained agent walking the same corridor).
``strategy="fifo"`` is kept for comparison; ``tests/test_diverse_replay.py`` and
``benchmarks/stream_diversity.py`` measure the difference.

Written here rather than taken from flashbax, which has no reservoir buffer. Pure functions over a
pytree state, like flashbax's buffers; items are whole observations (uint8), sampled uniformly.
"""
from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class StreamState:
  items: Any  # pytree of arrays [capacity, ...]
  seen: jnp.ndarray  # int32: items offered so far


def init(example_item, capacity: int) -> StreamState:
  items = jax.tree.map(lambda x: jnp.zeros((capacity, *x.shape), x.dtype), example_item)
  return StreamState(items=items, seen=jnp.zeros((), jnp.int32))


def capacity_of(state: StreamState) -> int:
  return jax.tree.leaves(state.items)[0].shape[0]


def write_slots(state: StreamState, n: int, key, strategy: str) -> jnp.ndarray:
  """Slot for each of ``n`` new items (``capacity`` = dropped), collisions resolved to the last."""
  capacity = capacity_of(state)
  count = state.seen + 1 + jnp.arange(n)  # 1-based index of each new item in the whole stream
  if strategy == "fifo":
    return (count - 1) % capacity
  draw = jax.random.randint(key, (n,), 0, jnp.maximum(count, 1))
  slot = jnp.where(count <= capacity, count - 1, draw)
  keep = slot < capacity
  # Two new items drawn into one slot: the later one wins, as if added one at a time.
  later = jnp.triu(jnp.ones((n, n), bool), k=1)
  overwritten = jnp.any(later & (slot[:, None] == slot[None, :]) & keep[None, :], axis=1)
  return jnp.where(keep & ~overwritten, slot, capacity)


def add(state: StreamState, items, key, strategy: str = "reservoir") -> StreamState:
  """Offers a batch of items (leading axis ``n``) to the stream."""
  n = jax.tree.leaves(items)[0].shape[0]
  slots = write_slots(state, n, key, strategy)
  stored = jax.tree.map(lambda buf, x: buf.at[slots].set(x, mode="drop"), state.items, items)
  return StreamState(items=stored, seen=state.seen + n)


def sample(state: StreamState, key, batch_size: int):
  """Uniform over the filled slots (call only once ``seen > 0``)."""
  filled = jnp.minimum(state.seen, capacity_of(state))
  idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(filled, 1))
  return jax.tree.map(lambda x: x[idx], state.items)
