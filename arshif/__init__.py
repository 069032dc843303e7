"""Arshif (أرشيف): crawl Arabic news outlets, keep every article, search and export it."""

__version__ = "0.1.0"
