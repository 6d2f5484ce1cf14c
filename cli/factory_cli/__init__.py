"""The app team's ``factory`` command: init, docs, and every action at a terminal."""
