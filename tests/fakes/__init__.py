"""Fakes of outside services at their HTTP boundary, and builders of their signed deliveries."""
