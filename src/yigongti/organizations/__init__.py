"""Medcoms / medical groups, member institutions, their tree and other affiliations."""
