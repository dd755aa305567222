"""Fit and engagement scores, lifecycle stages (pure Python; built in a later issue)."""
