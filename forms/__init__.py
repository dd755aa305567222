"""Questions as WTForms forms: validation and clean, typed values (pure Python)."""
