"""Tasks owned by the customer, by us, or jointly, with reminders through the outbox."""
