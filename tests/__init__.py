"""Tests for lambert."""
