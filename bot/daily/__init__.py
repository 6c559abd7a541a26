"""Daily posts: schedules, the pure planner (what is due at instant T), the claims and outcomes
of each (channel, local date), the shuffle bags, the scheduler loop and
`DailyService`, the one door to all of it.

Nothing outside this package reads or writes the daily tables. It may import `bot.quotes`,
`bot.storage`, `bot.coordination`, `bot.config`, `bot.ports` and `bot.platforms`; never chat,
serving, adapters or cli, and no platform library.
"""
