"""The qualitative history of a customer: hearings, troubles, calls, e-mails, cancellation
interviews and notes, shown with meetings, contract movements and score changes in one stream."""
