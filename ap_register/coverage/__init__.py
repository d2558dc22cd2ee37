"""Coverage: is every child in full-time education this week? `rules` (a week's sessions summed
over every setting that shares a child), `attendance` (registers: who a setting expects, the
rules of a mark), `alerts` (the statutory clocks, in school days), `digest` (yesterday's
registers for the people a child's absence concerns). `web` holds the attendance officer's pages."""
