from __future__ import annotations

import sys
from pathlib import Path

# tests/ holds shared helpers (factories, the fake Freshservice, the browser launcher).
sys.path.insert(0, str(Path(__file__).parent))
