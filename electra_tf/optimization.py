"""AdamW with warmup, linear decay, clipping and layer-wise learning rates.

The ELECTRA recipe for pretraining and fine-tuning: AdamW (weight decay
skipped for LayerNorm and biases, epsilon 1e-6), linear warmup then linear
decay to 0, gradients clipped to a global norm. Fine-tuning adds layer-wise
learning-rate decay: lower layers learn more slowly.
"""

import re
from typing import Optional, Sequence, Tuple

import tensorflow as tf
import tf_keras
from official.nlp import optimization

# (regex on the variable name, learning-rate factor); the first match wins.
Multipliers = Sequence[Tuple[str, float]]

# Transformer layer i's variables, in our encoder and in its Hub exports.
_LAYER_PATTERN = r"(?:^|/)layer_({})/"


def count_layers(variables) -> int:
  """Transformer depth, from `layer_<i>/` in the variable names."""
  matches = (re.search(_LAYER_PATTERN.format(r"\d+"), v.name)
             for v in variables)
  indices = [int(m.group(1)) for m in matches if m]
  return max(indices) + 1 if indices else 0


def layerwise_lr_multipliers(num_layers: int, decay: float,
                             original_depths: bool = False) -> Multipliers:
  """Factors of layer-wise learning-rate decay for an encoder of `num_layers`.

  Task heads keep the full rate; transformer layer i (0 = bottom) gets
  `decay ** (num_layers - i)`, so the top layer gets `decay` and the
  embeddings (and their projection) `decay ** (num_layers + 1)`.

  With `original_depths`, factors are those of google-research/electra's
  `_get_layer_lrs`, which puts the task heads at depth num_layers + 2 and so
  skips one depth: every encoder factor gains one more `decay` (top layer
  `decay ** 2`, embeddings `decay ** (num_layers + 2)`).
  """
  if not 0.0 < decay <= 1.0:
    raise ValueError(f"layer-wise learning-rate decay must be in (0, 1], "
                     f"got {decay!r}")
  skipped = 1 if original_depths else 0
  multipliers = [(r"(^|/)(embeddings|embedding_projection)/",
                  decay ** (num_layers + 1 + skipped))]
  multipliers += [(_LAYER_PATTERN.format(i),
                   decay ** (num_layers - i + skipped))
                  for i in range(num_layers)]
  return multipliers


class LayerwiseAdamWeightDecay(optimization.AdamWeightDecay):
  """Model Garden's AdamWeightDecay with a learning-rate factor per variable.

  The factor scales both the Adam step and the weight decay of a variable,
  as in the original ELECTRA optimizer (scaling gradients instead would do
  nothing under Adam). Variables matching no pattern keep factor 1.
  """

  def __init__(self, lr_multipliers: Multipliers = (), **kwargs):
    super().__init__(**kwargs)
    self._lr_multipliers = [(re.compile(p), f) for p, f in lr_multipliers]

  def lr_multiplier(self, variable_name: str) -> float:
    for pattern, factor in self._lr_multipliers:
      if pattern.search(variable_name):
        return factor
    return 1.0

  def _scaled_apply_state(self, var, apply_state):
    factor = self.lr_multiplier(var.name)
    if factor == 1.0:
      return apply_state
    key = (var.device, var.dtype.base_dtype)
    coefficients = ((apply_state or {}).get(key) or
                    self._fallback_apply_state(*key))
    return {key: dict(coefficients, lr_t=coefficients["lr_t"] * factor,
                      lr=coefficients["lr"] * factor)}

  def _resource_apply_dense(self, grad, var, apply_state=None):
    return super()._resource_apply_dense(
        grad, var, self._scaled_apply_state(var, apply_state))

  def _resource_apply_sparse_duplicate_indices(self, grad, var, indices,
                                               **kwargs):
    # An embedding's gradient rows, summed into a dense gradient: the dense
    # step is one fused kernel, while Keras' sparse Adam makes about ten full
    # passes over the table (and its moments) anyway.
    dense = tf.math.unsorted_segment_sum(grad, indices, tf.shape(var)[0])
    return self._resource_apply_dense(dense, var, **kwargs)


def make_optimizer(learning_rate: float, num_train_steps: int,
                   num_warmup_steps: int, weight_decay: float = 0.01,
                   clip_norm: float = 1.0,
                   lr_multipliers: Optional[Multipliers] = None):
  """AdamW over a linear warmup to `learning_rate`, then linear decay to 0."""
  schedule = tf_keras.optimizers.schedules.PolynomialDecay(
      initial_learning_rate=learning_rate, decay_steps=num_train_steps,
      end_learning_rate=0.0, power=1.0)
  if num_warmup_steps:
    schedule = optimization.WarmUp(
        initial_learning_rate=learning_rate, decay_schedule_fn=schedule,
        warmup_steps=num_warmup_steps)
  return LayerwiseAdamWeightDecay(
      lr_multipliers=lr_multipliers or (),
      learning_rate=schedule, weight_decay_rate=weight_decay,
      beta_1=0.9, beta_2=0.999, epsilon=1e-6,
      exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"],
      gradient_clip_norm=clip_norm)
