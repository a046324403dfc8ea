"""Private helpers shared by the SDK modules; not part of the public API."""
