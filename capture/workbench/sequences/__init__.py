"""The sequence editor and the visit simulator: a marketer edits, checks and plays the knowledge wheel."""
