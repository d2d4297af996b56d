"""Offline-first sync: changes in, the changes feed out, photos by content hash."""
