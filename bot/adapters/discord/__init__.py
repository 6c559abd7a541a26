"""Discord via discord.py: slash commands, previews, embeds, the daily poster, deploy steps."""
