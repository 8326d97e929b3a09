# Relances des diffusions (`diffusion relancer`, `relance: 24h`), telles que les admins les lisent.

remind-queued = La relance { $round } de la diffusion **#{ $number }** part vers { $count ->
    [one] 1 personne qui ne l'a pas encore lue
   *[other] { $count } personnes qui ne l'ont pas encore lue
    }.
remind-queued-ack = La relance { $round } de la diffusion **#{ $number }** part vers { $count ->
    [one] 1 personne qui ne l'a pas encore confirmée
   *[other] { $count } personnes qui ne l'ont pas encore confirmée
    }.
remind-nobody-read = Tous ceux qui ont reçu la diffusion **#{ $number }** l'ont lue : personne n'a été relancé.
remind-nobody-acked = Tous ceux qui ont reçu la diffusion **#{ $number }** ont confirmé l'avoir lue et comprise : personne n'a été relancé.
remind-recalled = La diffusion **#{ $number }** a été rappelée : aucune relance n'est envoyée.
remind-past-retention = La diffusion **#{ $number }** est plus ancienne que la durée de conservation : qui l'a lue n'est plus enregistré, aucune relance n'est possible.
remind-info-rounds = Relances : { $rounds ->
    [one] 1 tour
   *[other] { $rounds } tours
    }, { $delivered ->
    [one] 1 remise
   *[other] { $delivered } remises
    } ({ $list }).
remind-info-round = n° { $round } le { $at }, { $queued } en file
remind-info-round-auto = n° { $round } le { $at } (automatique), { $queued } en file
remind-info-read-after = Personnes qui l'ont lue après leur première relance : { $people }.
remind-info-acked-after = Personnes qui l'ont confirmée après leur première relance : { $people }.
