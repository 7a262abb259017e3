"""Command groups per area of use, registered on ``pmosync.cli.main``.

``cli.py`` keeps the group, the shared options and the one place where exceptions become exit
codes (``handle_errors``); each module here adds the commands of one area (schedules, analysis)
and imports those helpers from ``pmosync.cli``.
"""
