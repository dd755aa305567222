"""The knowledge wheel: sequences, stages, questions, and what to ask next (pure Python)."""
