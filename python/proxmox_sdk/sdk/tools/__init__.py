"""Tools built on the SDK: tasks (UPIDs) and files."""

from proxmox_sdk.sdk.tools.files import Files
from proxmox_sdk.sdk.tools.tasks import TaskFailedError, Tasks

__all__ = ["Files", "Tasks", "TaskFailedError"]
