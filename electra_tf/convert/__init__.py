"""Weight conversion from and to other ELECTRA implementations."""
