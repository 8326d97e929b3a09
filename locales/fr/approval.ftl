# Validation à quatre yeux (`[approval] required = true`) : la carte du validateur, ses réponses, et
# ce qui est dit à l'auteur.

approval-card-head-campaign = { $author } vous demande de valider la campagne **{ $name }**.
approval-card-head-broadcast = { $author } vous demande de valider la diffusion **{ $subject }**.
approval-card-as-seen = Telle que les destinataires la verront (personnalisée avec vos noms) :
approval-card-choices = Choix : { $choices }
approval-card-ack = Les destinataires doivent confirmer l'avoir lue et comprise.
approval-card-audience = Destinataires
approval-card-audience-size = { $audience } : { $count ->
    [one] { $count } personne
   *[other] { $count } personnes
} ({ $missing } sans herald)
approval-card-timing = Quand
approval-card-timing-now = Dès sa validation
approval-card-timing-campaign = À partir du { $start } ({ $zone }) pendant { $duration }, horaires { $hours }
approval-card-reason-label = Motif (nécessaire pour refuser)
approval-card-reason-placeholder = Pourquoi elle ne doit pas partir
approval-card-approve = Valider
approval-card-reject = Refuser
approval-card-summary = Validation demandée : { $title }
approval-decided-approved = ✓ **{ $title }** a été validée par { $by } le { $at }.
approval-decided-rejected = ✗ **{ $title }** a été refusée par { $by } le { $at } : { $reason }
approval-superseded = **{ $title }** a été modifiée ou retirée depuis : cette demande ne vaut plus.
approval-told-rejected = { $by } a refusé **{ $title }** : { $reason }. Rien n'a été envoyé.
approval-told-late = { $by } a validé **{ $title }**, mais son début ({ $start }) était déjà passé : rien n'a été envoyé. Choisissez un nouveau début avec `campagne modifier`, qui redemande une validation.
approval-told-campaign-approved = { $by } a validé **{ $title }** : elle commence le { $start }.
approval-told-approved = { $by } a validé **{ $title }**.
approval-told-broadcast-sent = { $by } a validé **{ $title }** : la diffusion **#{ $number }** est en route vers { $count ->
    [one] { $count } personne
   *[other] { $count } personnes
}.
approval-told-broadcast-nobody = { $by } a validé **{ $title }**, mais personne parmi ses destinataires n'a installé herald à présent : rien n'a été envoyé.
approval-told-broadcast-unresolved = { $by } a validé **{ $title }**, mais des groupes de sa liste n'ont pas pu être résolus : rien n'a été envoyé. Renvoyez-la plus tard.
approval-held-broadcast = La diffusion **{ $subject }** attend une validation : { $count ->
    [one] { $count } validateur a été sollicité
   *[other] { $count } validateurs ont été sollicités
}. Rien ne part avant qu'un validateur l'accepte ; vous serez prévenu.
approval-held-campaign = Campagne **{ $name }** enregistrée, en attente de validation : { $count ->
    [one] { $count } validateur a été sollicité
   *[other] { $count } validateurs ont été sollicités
}. Elle n'est pas planifiée avant qu'un validateur l'accepte ; vous serez prévenu.
approval-no-approver-broadcast = Une validation est requise, mais aucun validateur autre que vous n'a installé herald : rien n'a été envoyé. Demandez à un validateur d'installer herald, puis renvoyez-la.
approval-no-approver-campaign = Campagne **{ $name }** enregistrée, en attente de validation, mais aucun validateur autre que vous n'a installé herald : demandez à l'un d'eux de l'installer, puis modifiez la campagne pour redemander.
approval-refused-own = Vous en êtes l'auteur : un auteur ne peut pas valider son propre message. Un autre validateur doit décider.
approval-refused-not-approver = Vous n'êtes pas validateur ici : seuls les validateurs configurés décident.
approval-refused-needs-reason = Écrivez le motif dans la zone prévue pour refuser : l'auteur saura pourquoi.
approval-gone = Cette demande n'existe plus (sa campagne a été supprimée).
approval-card-timing-at = Le { $at }
approval-told-broadcast-scheduled = { $by } a validé **{ $title }** : c'est la diffusion **#{ $number }**, programmée pour le { $at }.
approval-told-broadcast-late = { $by } a validé **{ $title }**, mais son heure d'envoi est passée pendant l'attente de validation : rien n'a été envoyé. Renvoyez-la avec une nouvelle ligne `envoi:`.
approval-card-repeats = Se répète : { $rule }. La valider valide chaque exécution.
