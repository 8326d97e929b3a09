# Diffusions programmées : heures `envoi:`, `diffusion modifier`, annulation avant l'envoi, et
# l'avis à l'expéditeur une fois partie.

schedule-not-a-date-time = `{ $value }` n'est pas une date et une heure au format AAAA-MM-JJ HH:MM
schedule-skipped-time = { $value } n'existe pas dans le fuseau { $zone } : les horloges sautent cette heure-là ; choisissez-en une autre
schedule-in-past = { $value } ({ $zone }) est passé : il est { $now } là-bas
schedule-no-time = en attente de libération

schedule-scheduled = La diffusion **#{ $number }** { $subject } est programmée pour le { $at }, vers { $audience }. Rien n'est envoyé avant ; ses destinataires sont comptés au moment de l'envoi. Tapez **diffusion modifier { $number }** pour la changer, **diffusion supprimer { $number }** pour l'annuler.
schedule-edited = La diffusion programmée **#{ $number }** est modifiée : { $subject }, pour le { $at }.
schedule-not-edited-head = La diffusion **#{ $number }** n'a pas été modifiée :
schedule-edit-gone = La diffusion **#{ $number }** est déjà partie : elle ne peut plus être modifiée. Tapez **diffusion supprimer { $number }** pour la rappeler.
schedule-cancelled = La diffusion programmée **#{ $number }** { $subject } (pour le { $at }) est annulée : rien n'a été envoyé, et rien ne le sera.
schedule-not-sent-yet = La diffusion **#{ $number }** n'est pas encore partie : elle est programmée pour le { $at }.

schedule-went = Votre diffusion programmée **#{ $number }** { $subject } est en route vers { $count ->
    [one] { $count } personne
   *[other] { $count } personnes
}. Tapez **diffusion info { $number }** pour suivre qui l'a lue.
schedule-went-nobody = Votre diffusion programmée **#{ $number }** { $subject } n'a pas été envoyée : personne de { $audience } n'a installé herald.
schedule-went-unresolved = Votre diffusion programmée **#{ $number }** { $subject } n'a pas été envoyée : Microsoft Graph n'a pas pu résoudre les groupes { $groups }. Renvoyez-la une fois qu'ils le sont.

schedule-list-line = - **#{ $number }** { $subject } — { $state } — { $audience }
schedule-list-held = programmée pour le { $at }
schedule-list-cancelled = annulée avant l'envoi, jamais envoyée
schedule-list-not-sent = non envoyée ({ $at }) : personne à qui l'envoyer
schedule-info-held = Programmée pour le { $at } par { $sender }, vers { $audience } : rien n'est envoyé avant. Tapez **diffusion modifier { $number }** pour la changer, **diffusion supprimer { $number }** pour l'annuler.
schedule-info-cancelled = Annulée le { $at }, avant l'envoi : rien n'a été envoyé.
schedule-info-not-sent = Non envoyée le { $at } : { $reason ->
    [unresolved] les groupes de sa liste n'ont pas pu être résolus.
   *[other] personne de ses destinataires n'avait installé herald.
}

form-label-send = Envoyer le (AAAA-MM-JJ HH:MM ; vide : maintenant)
form-label-send-zone = Fuseau de cette heure (vide : le vôtre)
form-send-or-schedule = Envoyer
schedule-edit-approval = La validation est requise ici : une diffusion ne peut plus être modifiée une fois soumise. Supprimez-la (**diffusion supprimer** avec son numéro) et renvoyez-la : les validateurs seront à nouveau sollicités.
