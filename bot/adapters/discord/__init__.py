"""Discord via discord.py: the client and its slash commands, private previews with buttons,
embeds, the daily poster and the deploy steps (`lambert discord sync|invite`)."""
