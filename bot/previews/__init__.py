"""Previews: the claim that posts a private quote preview to its channel at most once, however
often Post is clicked or replayed."""
