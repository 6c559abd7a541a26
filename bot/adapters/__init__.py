"""Adapters: the only code importing a platform library; never another platform's, nor cli."""
