"""Fine-tuning tasks: data, model, loss, evaluation and prediction files."""
