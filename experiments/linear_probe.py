"""A linear probe of a frozen encoder, as the study scores representations.

The encoder's last-layer outputs are averaged over each example's real tokens
(frozen: no gradient reaches the encoder) and a linear model is fitted on
them: logistic regression for classes, ridge regression for scores, on
standardised features, with the regularisation strength chosen on dev.
"""

import numpy as np
from sklearn import linear_model
from sklearn import pipeline
from sklearn import preprocessing

from electra_tf import metrics
from electra_tf.networks.electra_encoder import encoder_inputs

# Inverse regularisation strengths tried (C of logistic regression; ridge's
# alpha is its inverse).
STRENGTHS = (0.01, 0.1, 1.0, 10.0)


def mean_pooled(network, features, batch_size: int = 64) -> np.ndarray:
  """[examples, hidden]: the mean of `sequence_output` over real tokens."""
  inputs = encoder_inputs(features)
  pooled = []
  for start in range(0, len(inputs["input_word_ids"]), batch_size):
    batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
    outputs = network(batch, training=False)["sequence_output"].numpy()
    mask = batch["input_mask"][..., None].astype(np.float32)
    pooled.append((outputs * mask).sum(1) / np.maximum(mask.sum(1), 1.0))
  return np.concatenate(pooled)


def fit_and_score(train_x, train_y, dev_x, dev_y, regression: bool,
                  metric: str):
  """(best dev score, its strength) of a linear model fitted on train."""
  best = None
  for strength in STRENGTHS:
    model = (linear_model.Ridge(alpha=1.0 / strength) if regression else
             linear_model.LogisticRegression(C=strength, max_iter=2000))
    model = pipeline.make_pipeline(preprocessing.StandardScaler(), model)
    model.fit(train_x, train_y)
    score = getattr(metrics, metric)(dev_y, model.predict(dev_x))
    if best is None or score > best[0]:
      best = (score, strength)
  return best
