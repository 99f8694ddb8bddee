"""Qt widgets of the desktop app. Domain modules never import this package."""
