"""banso (伴走): a self-hostable customer success platform."""

__version__ = "0.1.0"
