#!/usr/bin/env bash
# ELECTRA-Small against BERT-Small (the same encoder under masked LM) at equal
# pretraining FLOPs on one GPU, in bfloat16 with XLA: progress lines give
# model TFLOP/s and MFU against the card's peak, every held-out evaluation
# the dynamics (AUC on the generator's and on random replacements, gain over
# the base rate, MLM and sampled accuracy), then both encoders and a random
# one are fine-tuned on the shipped sets (experiments/sample_efficiency.py).
#
#   bash experiments/gpu_small.sh /tmp/gpu_small [budgets]
#
# PEAK_TFLOPS: the card's dense bf16 peak (default 989, an H100 SXM; an H200
# is the same, an A100 312). Needs the package installed (pip install -e .).
set -euo pipefail
cd "$(dirname "$0")/.."
output_dir=${1:-/tmp/gpu_small}
budgets=${2:-1e16,3e16}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python -c "import tensorflow as tf; gpus = tf.config.list_physical_devices('GPU'); \
print('GPUs:', gpus); assert gpus, 'no GPU visible to TensorFlow'"
python experiments/sample_efficiency.py --config=small \
  --budgets="$budgets" --seeds=1,2,3 --output_dir="$output_dir" \
  --mixed_precision=mixed_bfloat16 --jit_compile \
  --peak_tflops="${PEAK_TFLOPS:-989}" --eval_every=1000 --steps_per_loop=200
grep -h -E "^(step|eval) " "$output_dir"/*/pretraining.log | tail -n 40
