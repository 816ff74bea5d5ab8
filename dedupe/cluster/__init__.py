"""Clustering: scored pairs to entities, regions of change, stable entity ids, decisions."""
