"""The customer file and the vehicle health file (车辆健康档案): the customer's page, search,
merging duplicates, the diagnosis record, each car's timeline with its measured values,
and customer tiers. Everything here reads and writes the typed tables; what devices
must also see (a merged customer's visits and cars, a VIP) goes through the sync
engine's own write path (``sync_server.sync.records.update_server_record``)."""
