"""What the two latent agents (optimistic DQN, the goal agent) share: an autoencoder trained beside
a Q-learning :class:`~goalrl.agents.qlearning.Learner`, in one update.

Their states have ``encoder`` (``encoder.EncoderState``) and ``learner`` fields. One update takes
the gradients of the agent's losses with respect to both the learner's online params and the
encoder's params, gives the latter to the encoder only when ``encoder.agent_grads`` is set
(``encoder.step_after_agent``, which then also runs the encoder's own reconstruction step), and
steps the learner (``Core.step``).
"""
from __future__ import annotations

import jax

from goalrl import encoder as encoder_lib


def update(core, ae, cfg, state, loss_fn, data, loss_key, encoder_key):
  """``loss_fn(online, encoder_params, target, data, loss_key) -> (loss, metrics)``; returns the
  updated state and the loss and encoder metrics."""
  learner = state.learner
  (grads, enc_grads), metrics = jax.grad(loss_fn, argnums=(0, 1), has_aux=True)(
      learner.online, state.encoder.params, learner.target, data, loss_key)
  enc_state, enc_metrics = encoder_lib.step_after_agent(ae, state.encoder, enc_grads,
                                                        cfg.encoder.agent_grads, encoder_key,
                                                        learner.num_updates)
  return state.replace(learner=core.step(learner, grads), encoder=enc_state), {
      **metrics, **enc_metrics}
