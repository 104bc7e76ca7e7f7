"""Shared helpers for the test suite (external tools, throwaway servers)."""
