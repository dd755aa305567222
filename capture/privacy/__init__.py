"""Privacy: consent per purpose with proof (consent*.py), and the data subject's rights (rights*.py, retention.py)."""
