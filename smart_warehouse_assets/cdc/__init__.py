"""Change data capture from the portals' write-ahead log (issue 16).

``publications``: the publication and logical replication slot per source portal
(``smart-warehouse cdc setup | status | drop``). ``pgoutput``: a decoder of the pgoutput
protocol. ``consumer``: reads a slot through the SQL interface, applies, then advances.
``apply``: what a batch of decoded changes does to the warehouse. ``live``: today's live
application figures as a Dagster asset and the sensor that keeps them current.
"""
