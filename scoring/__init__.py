"""Fit and engagement scores, recency decay, thresholds, lifecycle stages and explanations (pure Python).

No framework, no database, no clock: the capture side maps rows to
:class:`scoring.inputs.Event` and :class:`scoring.inputs.Profile`, passes ``now``,
and stores what comes back. See docs/scoring-format.md for the model document.
"""
