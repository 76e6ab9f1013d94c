"""Customer understanding in four layers (M12): industry, their business, the people, feelings."""
