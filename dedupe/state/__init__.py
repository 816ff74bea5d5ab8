"""Kept matching state: the index, scored pairs and the result of a run."""
