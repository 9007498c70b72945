"""Practitioners, titles, practice sites (多点执业)."""
