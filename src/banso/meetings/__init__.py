"""Meetings as one living document per customer: agenda and hypotheses before, reviewed by a
colleague, then the customer's views, decisions and TODOs during the meeting."""
