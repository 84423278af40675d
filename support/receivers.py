"""Notifications as the events of the other apps (panel.events) call for them. Filled in by support.notify."""
