"""Reporters: turn a finished Report into text for a terminal or a machine."""
