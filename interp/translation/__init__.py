"""Text translation: backends behind one protocol, routes between languages, the stage."""
