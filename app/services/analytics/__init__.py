"""Sales funnel and process monitoring computed from the recorded history with SQL aggregates.

Every function takes the actor and a `Filters` and returns a `Report` (tables + summary). Head of sales and
admins see everything; anyone else sees their own figures only (see scope.resolve).
"""

from app.services.analytics.funnel import funnel
from app.services.analytics.people import people
from app.services.analytics.regulation import sla
from app.services.analytics.report import Report, Table, to_csv
from app.services.analytics.scope import Filters
from app.services.analytics.timing import bottlenecks, stage_times, task_times
from app.services.analytics.versions import compare_versions

__all__ = ["Filters", "Report", "Table", "bottlenecks", "compare_versions", "funnel", "people", "sla",
           "stage_times", "task_times", "to_csv"]
