"""Background tasks: a taskiq worker and scheduler over a Redis queue."""
