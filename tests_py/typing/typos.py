"""Mistakes the type checkers must refuse (``test_typing.py`` runs them on this file and
expects exactly these errors, one per marked line). Never imported."""

from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK

ProxmoxSDK(hots="pve1")  # error: hots
ProxmoxSDK(host="pve1", tokn_name="x")  # error: tokn_name
SyncProxmoxSDK(host="pve1", timeout="five")  # error: timeout
ProxmoxSDK(host="pve1", backend="htps")  # error: backend
ProxmoxSDK.mock(schema_version=9.2)  # error: schema_version
SyncProxmoxSDK.mock().mock_store.rest()  # error: rest
SyncProxmoxSDK.mock().nodes.get(1).bit_length()  # fine: the answer is Any
ProxmoxSDK.mock().nodes.get().keys()  # error: keys
