"""What every written document shares: safe Markdown, mentions, and revisions with merging."""
