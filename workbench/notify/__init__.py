"""Channels and deliveries: what `workbench notify` sends, through which mechanism, and the
record of every attempt. A layer above the model and the repository, below the service
(``workbench.service.notify`` orchestrates). See docs/notify.md."""
