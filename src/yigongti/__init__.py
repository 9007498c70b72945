"""yigongti: one platform for a tight county medical community (紧密型县域医共体)."""

__version__ = "0.1.0"
