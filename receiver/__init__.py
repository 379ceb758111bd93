"""receiver: a webhook receiver and asset archiver for AI video generation APIs."""

__version__ = "0.1.0"
