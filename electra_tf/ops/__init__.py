"""Tensor ops for ELECTRA pretraining."""
