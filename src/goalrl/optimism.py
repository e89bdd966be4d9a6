"""Optimism: synthetic latent states or goals with a modest positive reward, mixed into each agent
batch inside the jitted update, so unvisited parts of latent space look valuable until tried.

A fixed number of rows ``round(ratio * batch_size)`` (static, so shapes never change) is replaced;
``ratio = 0`` replaces nothing and leaves the batch untouched. Sources of synthetic latents:

* ``prior``: draws from N(0, I), the regularised (KL/MMD) encoder's latent prior;
* ``replay``: latents of real replay states plus Gaussian noise of scale ``noise`` (stays near
  the data manifold; the right choice for an unregularised autoencoder);
* ``both``: half from each.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def num_synthetic(batch_size: int, ratio: float) -> int:
  return int(round(ratio * batch_size))


def synthetic_latents(key, n: int, real_latents: jnp.ndarray, source: str,
                      noise: float) -> jnp.ndarray:
  """``n`` synthetic latents shaped like rows of ``real_latents`` [B, D]."""
  k_prior, k_pick, k_noise = jax.random.split(key, 3)
  dim = real_latents.shape[-1]
  prior = jax.random.normal(k_prior, (n, dim))
  picked = real_latents[jax.random.randint(k_pick, (n,), 0, real_latents.shape[0])]
  perturbed = jax.lax.stop_gradient(picked) + noise * jax.random.normal(k_noise, (n, dim))
  if source == "prior":
    return prior
  if source == "replay":
    return perturbed
  return jnp.where((jnp.arange(n) < n // 2)[:, None], prior, perturbed)


def replace_rows(batch, synthetic, n: int):
  """``batch`` with its first ``n`` rows replaced by ``synthetic`` (same pytree, ``n`` rows)."""
  if n == 0:
    return batch
  return jax.tree.map(lambda b, s: b.at[:n].set(s.astype(b.dtype)), batch, synthetic)


def synthetic_mask(batch_size: int, n: int) -> jnp.ndarray:
  return jnp.arange(batch_size) < n
