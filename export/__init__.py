"""TF-Hub-style SavedModel export of ELECTRA encoders and preprocessing."""
