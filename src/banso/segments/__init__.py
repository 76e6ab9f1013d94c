"""Saved segments: named customer list views (filters, sort, columns) shared with the team."""
