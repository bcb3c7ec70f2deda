"""qikg: a knowledge graph of health-care professions, roles and quality-improvement findings."""

__version__ = "0.3.0"
