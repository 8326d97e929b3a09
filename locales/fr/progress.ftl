# La carte de suivi en direct (la confirmation d'une diffusion pour son auteur, la carte d'une
# campagne qui démarre pour son auteur), mise à jour sur place pendant l'envoi.

progress-delivered = Remis
progress-failed = Échecs
progress-waiting = En attente
progress-percent = Envoi en cours : { $percent } % fait
progress-finished = Terminé : chaque destinataire a son résultat.
progress-expected-end = Fin prévue : { $at }
progress-finished-at = Terminé le { $at }
progress-updated = Mis à jour le { $at }
progress-campaign-started = La campagne { $name } a démarré : elle part vers { $count ->
    [one] 1 personne
   *[other] { $count } personnes
    }.
