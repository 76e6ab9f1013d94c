"""Health scores: scorecards, snapshots, backtests."""
