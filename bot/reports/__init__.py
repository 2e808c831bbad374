"""/report's pure parts (issue 15): the figures a look at the partner leaves, each
consultation's outcome and cost, the totals, and the report's period.

No database, no Telegram, no I/O: the service (bot/services/reports.py) feeds them stored
records, the rendering (bot/rendering/report*.py) draws what they compute.
"""
