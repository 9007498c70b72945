"""Master patient index: residents, identity documents, households, duplicates, care relationships."""
