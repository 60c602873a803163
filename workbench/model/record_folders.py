"""Where each kind of signed record lives in a governance repo: one name per folder, read by
the rules that parse the records (``governance``, ``evidence.closures``, ``notify``), the
statement check (``signing.record_statement``), the repository's layout (``repo.layout``)
and the bundle export. Pure: names only.

Every record is its own file, named after its author and moment, so two clones never
write the same path (docs/sync.md).
"""

from __future__ import annotations

REVIEWS_DIR = "reviews/"
ACKS_DIR = "acks/"
RECEIPTS_DIR = "reports/receipts/"
CLOSURES_DIR = "findings/closures/"
CLOCKS_DIR = "clocks/"
PAGE_ACKS_DIR = "notify/page-acks/"
DELIVERIES_DIR = "notify/deliveries/"
REGISTRATIONS_DIR = "evidence/registrations/"
NOTIFY_RECORD_DIRS = (PAGE_ACKS_DIR, DELIVERIES_DIR)

# The records whose time git can place (closures and clocks too; page acks and deliveries
# are judged by their own statement times).
SIGNED_RECORD_DIRS = (REVIEWS_DIR, ACKS_DIR, RECEIPTS_DIR)
