"""TF-Hub-style SavedModel export of ELECTRA encoders (see issue 3)."""
