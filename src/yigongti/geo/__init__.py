"""Administrative divisions: county → township/street → village/community (GB/T 2260 style)."""
