"""`python -m ryan_server`: the server, as `ryan-server`."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
