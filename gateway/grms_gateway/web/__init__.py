"""The web application: server-rendered pages in Bahasa Indonesia (default) and English, no JavaScript required."""
