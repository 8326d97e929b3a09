# La page du rapport (HTML) derrière le lien de la carte de rapport.

report-open-page = Ouvrir la page du rapport
report-page-title = Rapport : { $title }
report-page-counts = Chiffres
report-page-csv = Télécharger le CSV ({ $count ->
    [one] 1 destinataire
   *[other] { $count } destinataires
})
report-page-controls = Filtrer les destinataires
report-page-filter = Statut
report-page-search = Chercher un nom ou une adresse
report-page-apply = Appliquer
report-page-caption = Destinataires : { $shown } affichés sur { $total }
report-page-none = Personne ne correspond à ce statut et à cette recherche.
report-page-pages = Pages du tableau
report-page-pager = Page { $page } sur { $pages }
report-page-previous = Page précédente
report-page-next = Page suivante
report-page-expires = Le lien de cette page est valable jusqu’au { $at }.

report-page-filter-all = Tous
report-page-filter-delivered = Remis
report-page-filter-read = Lus
report-page-filter-unread = Non lus
report-page-filter-waiting = En attente
report-page-filter-failed = En échec
report-page-filter-expired = Expirés
report-page-filter-not-installed = Non installés
report-page-filter-clicked = Ont cliqué
report-page-filter-acknowledged = Ont accusé réception

report-page-col-name = Nom
report-page-col-email = Adresse
report-page-col-status = Statut
report-page-col-presence = Présence
report-page-col-sent = Remis (UTC)
report-page-col-read = Lu (UTC)
report-page-col-clicks = Clics
report-page-col-acknowledged = Accusé de réception (UTC)
report-page-col-reactions = Réactions
report-page-col-answer = Réponse

report-page-status-delivered = remis
report-page-status-pending = à envoyer
report-page-status-waiting = en attente de présence
report-page-status-expired = expiré
report-page-status-not-installed = non installé
report-page-status-failed = échec ({ $reason })

report-page-expired-title = Ce lien de rapport a expiré
report-page-expired = Redemandez le rapport à herald (campagne rapport ou diffusion info) pour obtenir un nouveau lien.
report-page-bad-title = Cette adresse de rapport n’est pas correcte
report-page-bad-status = « { $value } » n’est pas un filtre de statut. Utilisez l’un de : { $choices }.
report-page-bad-page = « { $value } » n’est pas un numéro de page. Utilisez un nombre entier à partir de 1, par exemple page=2.
