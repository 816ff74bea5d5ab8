"""Scoring: comparisons, their measures, the Fellegi-Sunter model and its estimation."""
