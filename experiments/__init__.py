"""Vekst's domain: experiment and metric definitions, assignment, events, storage, results."""
