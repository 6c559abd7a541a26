"""Daily posts: schedules, the pure planner, each (channel, local date)'s claim and outcome,
the shuffle bags, the scheduler loop, and `DailyService`, the one door to them (nothing else
touches the daily tables). No chat, serving, adapters, cli or platform library here."""
