"""Notifications: side effects (mail now; Slack and webhooks later) written to an outbox in the
same transaction as the change that causes them, and delivered by a worker with retries, so a
failed send is retried and never lost, and a re-run never sends twice."""
