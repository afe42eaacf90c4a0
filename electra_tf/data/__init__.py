"""Input pipelines for ELECTRA pretraining."""
