# Diffusions : envoi, suivi, rappel, lectures et relais des réponses.

broadcast-not-sent-head = La diffusion n'a pas été envoyée :
broadcast-unknown = Il n'y a pas de diffusion { $id }. Tapez **diffusions** pour les voir.
broadcast-sender-unknown = Je ne vous connais pas encore : réinstallez herald, puis réessayez.
broadcast-unknown-list = Il n'y a pas de liste nommée { $name }. Tapez **listes** pour les voir.
broadcast-nobody-all = Personne n'a encore installé herald : la diffusion n'a pas été envoyée.
broadcast-nobody-list = Aucun membre de { $list } n'a installé herald : la diffusion n'a pas été envoyée.
broadcast-not-installed = Non installés : { $emails }
broadcast-sent = Diffusion **#{ $number }** { $subject } en route vers { $count ->
    [one] { $count } personne
   *[other] { $count } personnes
}.
broadcast-sent-not-installed = { $count ->
    [one] { $count } membre de { $list } n'a pas installé herald : { $emails }
   *[other] { $count } membres de { $list } n'ont pas installé herald : { $emails }
}
broadcast-sent-follow = Tapez **diffusion info { $number }** pour suivre les lectures.

broadcast-none = Aucune diffusion pour l'instant.
broadcast-list-line = - **#{ $number }** { $subject } — { $at } — { $audience } : { $targeted ->
    [one] { $targeted } destinataire
   *[other] { $targeted } destinataires
}, { $delivered } remis, { $read } lus{ $recalled }
broadcast-list-recalled = rappelée

broadcast-info-title = Diffusion **#{ $number }** { $subject }
broadcast-info-sent = Envoyée le { $at } par { $sender } à { $audience }.
broadcast-info-counts = Destinataires : { $targeted } · remis : { $delivered } · en cours : { $pending } · échecs : { $failed } · non installés : { $not_installed }
broadcast-info-reads = Lus : { $read } ({ $button } par le bouton, { $receipt } par accusé de lecture) · réponses : { $repliers }
broadcast-info-recalled = Rappelée le { $at } : supprimée de { $removed } conversation(s), { $failed } échec(s), { $pending } en cours, { $not_sent } jamais envoyée(s).
broadcast-info-unread = Pas encore lu ({ $count }) : { $names }
broadcast-info-clicks = Clics : { $people ->
    [one] { $people } personne
   *[other] { $people } personnes
}, { $clicks ->
    [one] { $clicks } clic
   *[other] { $clicks } clics
} en tout

broadcast-already-recalled-on = La diffusion **#{ $number }** a déjà été rappelée le { $at }.
broadcast-already-recalled = La diffusion **#{ $number }** a déjà été rappelée.
broadcast-recall-past-retention = La diffusion **#{ $number }** est plus ancienne que la durée de conservation : ses envois ne sont plus enregistrés, ses messages ne peuvent donc plus être retirés.
broadcast-recalling = Rappel de la diffusion **#{ $number }** { $subject } : suppression dans { $deletes } conversation(s) en cours{ $stopped }. Je vous préviens quand c'est fini ; les fils de réponses restent ouverts.
broadcast-recalling-stopped = , { $count ->
    [one] { $count } envoi arrêté
   *[other] { $count } envois arrêtés
}
broadcast-recall-report = Diffusion #{ $number } « { $subject } » rappelée : supprimée de { $removed } conversation(s), { $failed } échec(s).
broadcast-recall-report-not-sent = { $count ->
    [one] { $count } n'avait pas encore été envoyée.
   *[other] { $count } n'avaient pas encore été envoyées.
}

broadcast-recalled-by-sender = Cette diffusion a été rappelée par son expéditeur.
broadcast-not-yours = Cette diffusion ne vous a pas été envoyée, ou n'existe plus.
broadcast-reply-passed = Votre réponse à { $subject } a été transmise à { $to }.
broadcast-answer-passed = Votre réponse a été transmise à { $to }.
broadcast-reply-empty = Votre réponse est vide : écrivez-la dans la case, puis envoyez.
broadcast-reply-too-long = Votre réponse fait { $count } caractères ; { $max } au plus.
broadcast-reply-too-heavy = Votre réponse est trop lourde une fois affichée (caractères < & * et retours à la ligne comptent plus) : raccourcissez-la.

broadcast-card-from = De { $sender }
broadcast-card-read = ✓ Lu
broadcast-card-mark-read = Marquer comme lu
broadcast-card-reply = Répondre
broadcast-card-reply-placeholder = Votre réponse à l'expéditeur
broadcast-card-send = Envoyer
broadcast-reply-card-head = **{ $replier }** a répondu à la diffusion #{ $number } « { $subject } » :
broadcast-reply-card-summary = Réponse de { $replier }
broadcast-reply-card-answer = Répondre
broadcast-reply-card-placeholder = Votre réponse à { $replier }
broadcast-answer-card-head = **{ $sender }** vous répond au sujet de « { $subject } » :
broadcast-answer-card-summary = Réponse de { $sender }
