"""The terminal client `ryan`: it talks to `ryan-server` over stdio like any editor does."""
