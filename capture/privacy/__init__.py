"""Privacy: consent per purpose with proof (consent*.py); what a person may ask of us, export and erasure
(person.py, export.py, erasure.py); and what we keep only for so long (retention.py)."""
