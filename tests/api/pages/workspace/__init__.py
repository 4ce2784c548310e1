"""The workspace pages: forms, hostile input, admin pages, and the browser tests."""
