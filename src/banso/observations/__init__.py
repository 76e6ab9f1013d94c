"""Observation log (M11): watching a customer use the product, moment by moment, then KPT."""
