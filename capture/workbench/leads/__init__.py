"""The Leads pages: search, filters, a lead's provenance and timeline, and the CSV export."""
