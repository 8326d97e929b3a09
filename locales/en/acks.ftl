# Acknowledgements (`ack: yes`): refusals shown on the card, and `broadcast info`.

ack-not-asked = That broadcast does not ask for an acknowledgement.
broadcast-info-acks = Acknowledged: { $acked } of { $reached }
broadcast-info-not-acked = Not acknowledged yet ({ $count }): { $names }
