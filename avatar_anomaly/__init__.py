"""Tell when a person's generated avatar shows a different emotion than the person"""

__version__ = "0.0.1"
