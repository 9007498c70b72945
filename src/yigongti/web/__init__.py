"""Layout, navigation, login and the home page per role; pages for the foundation domains."""
