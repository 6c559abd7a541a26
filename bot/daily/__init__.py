"""Daily posts: schedules, planner, claims, bags, scheduler; `DailyService` is their one door."""
