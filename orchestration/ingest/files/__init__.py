"""File sources dropped in the inbox."""
