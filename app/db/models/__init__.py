"""All tables; importing this module registers every model on Base.metadata (Alembic needs that)."""

from app.db.models.definitions import DefinitionState, Deployment, ProcessDefinition, ProcessSetting
from app.db.models.documents import Document
from app.db.models.history import EventKind, HistoryEvent
from app.db.models.identity import Group, LoginFailure, ServerSetting, User, membership
from app.db.models.instances import Incident, InstanceStatus, ProcessInstance
from app.db.models.jobs import BufferedMessage, Job, JobKind, JobState, MessageSubscription
from app.db.models.leads import ApiKey, ImportState, LeadImport, LeadImportRow, LeadKey, LeadRequest, RowOutcome
from app.db.models.migration_batches import BatchState, ItemState, MigrationBatch, MigrationItem
from app.db.models.stages import StageVisit
from app.db.models.tasks import CandidateKind, Task, TaskCandidate, TaskState

__all__ = [
    "ApiKey", "Document", "ImportState", "LeadImport", "LeadImportRow", "LeadKey", "LeadRequest", "RowOutcome",
    "BatchState", "BufferedMessage", "CandidateKind", "DefinitionState", "Deployment", "EventKind", "Group",
    "HistoryEvent", "Incident", "InstanceStatus", "ItemState", "Job", "JobKind", "JobState", "LoginFailure",
    "MessageSubscription", "MigrationBatch", "MigrationItem", "ProcessDefinition", "ProcessInstance",
    "ProcessSetting", "ServerSetting", "StageVisit", "Task", "TaskCandidate", "TaskState", "User", "membership",
]
