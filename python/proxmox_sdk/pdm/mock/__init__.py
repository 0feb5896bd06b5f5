"""The in-memory PDM: its state in the original package's shape (:class:`PDMMockState`),
the default seed (:func:`get_default_pdm_seed`), and the routes that serve it
(:func:`register_generated_pdm_mock_routes`, or :mod:`proxmox_sdk.pdm_mock_main`)."""

from proxmox_sdk.pdm.mock.routes import PDMMockState, register_generated_pdm_mock_routes
from proxmox_sdk.pdm.mock.seed_data import get_default_pdm_seed

__all__ = ["PDMMockState", "get_default_pdm_seed", "register_generated_pdm_mock_routes"]
