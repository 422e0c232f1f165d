"""The caption server: one process, one port, the pages, the WebSocket endpoints."""
