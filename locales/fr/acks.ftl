# Accusés de lecture (`accusé: oui`) : refus montrés sur la carte, et `diffusion info`.

ack-not-asked = Cette diffusion ne demande pas d'accusé de lecture.
broadcast-info-acks = Accusés de lecture : { $acked } sur { $reached }
broadcast-info-not-acked = Pas encore d'accusé de lecture ({ $count }) : { $names }
