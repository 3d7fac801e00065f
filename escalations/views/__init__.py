"""Thin views, one per action: fetch through a selector, validate a form, call one service,
redirect with a message."""
