# Renvois (`campagne renvoyer`, `diffusion renvoyer`) et réparations, tels que les rapports les montrent.

resend-campaign-done = La campagne { $name } est renvoyée à { $total ->
    [one] 1 personne
   *[other] { $total } personnes
    } : { $failed } dont l'envoi avait échoué, { $newly } qui ont installé herald depuis.
resend-campaign-when = Elle part le { $at }, à l'ouverture de ses horaires.
resend-campaign-none = Rien à renvoyer pour la campagne { $name } : chaque destinataire joignable l'a reçue, ou elle est en route.
resend-broadcast-done = La diffusion **#{ $number }** est renvoyée à { $total ->
    [one] 1 personne
   *[other] { $total } personnes
    } : { $failed } dont la carte avait échoué, { $newly } qui ont installé herald depuis.
resend-broadcast-none = Rien à renvoyer pour la diffusion **#{ $number }** : chaque destinataire joignable l'a reçue, ou elle est en route.
resend-left-out = Non renvoyée : { $unreachable } dont l'envoi a échoué et qui n'ont plus herald, { $missing } membres de la liste qui ne l'ont toujours pas installé.
resend-not-started = La campagne { $name } n'a pas encore commencé : il n'y a rien à renvoyer.
resend-recalled = La diffusion **#{ $number }** a été rappelée : elle n'est pas renvoyée.
report-repairs = Conversations réparées
report-resent = Renvoyés
report-resent-value = { $resent } ({ $delivered } remis)
broadcast-info-resends = Conversations réparées : { $repairs }. Renvoyés : { $resent } ({ $delivered } remis).
