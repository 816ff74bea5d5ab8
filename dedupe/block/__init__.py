"""Blocking: keys of each record, the kept index of candidate pairs, its updates."""
