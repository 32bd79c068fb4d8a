"""What Flux learns about the user's project: its migration tool, folders and settings."""
