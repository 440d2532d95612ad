"""What interactions tell the apps above them (ARCHITECTURE.md: lower apps send signals).

`interactions_recorded` is sent once per write, after the transaction commits, with every
interaction it stored (`interactions`: a list of saved `Interaction` rows, ids set), whether one
call logged by hand or ten thousand ingested events. Lifecycle opens leads and rescores from it.
Duplicates that were ignored (an event id seen before) are not in the list.
"""

from django.dispatch import Signal

interactions_recorded = Signal()
